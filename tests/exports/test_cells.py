"""Cells as openpyxl writes and reads them: no formula from text, no cut text, no overflowing sheet."""

import pytest
from openpyxl import Workbook, load_workbook

from reviewmech.exports.cells import CELL_LIMIT, SheetStream, join_pieces, split_text, unescape, utf16_length
from tests.pure import _no_database  # noqa: F401 - these tests need no database

TEXTS = ["=1+1", "=HYPERLINK(\"http://x.example\")", "+41 22 917 1234", "-5", "@SUM(A1)", "\tTab first", "\rCR first",
         "#N/A", "=", " leading and trailing ", "line\nbreak", "bell\x07inside", "_x0041_ literally", "ünïcødé 😀",
         "a" * 40_000, "😀" * 20_000]


def _round_trip(tmp_path, texts, max_rows=1_048_576):
    workbook = Workbook(write_only=True)
    stream = SheetStream(workbook, "Data", marker=["(continued)"], max_rows=max_rows)
    for text in texts:
        stream.add(["row", text])
    stream.close()
    workbook.save(tmp_path / "t.xlsx")
    read = load_workbook(tmp_path / "t.xlsx", read_only=True)
    groups, types = [], []
    for sheet in read.worksheets:
        for row in sheet.iter_rows():
            values = [unescape(c.value) if isinstance(c.value, str) else c.value for c in row]
            types.append(row[1].data_type if len(row) > 1 else None)
            if values[0] == "(continued)":
                groups[-1].append(values)
            else:
                groups.append([values])
    return [join_pieces(group)[1] for group in groups], types, read.sheetnames


def test_every_text_reads_back_identical_and_none_becomes_a_formula(tmp_path):
    read, types, _sheets = _round_trip(tmp_path, TEXTS)
    assert read == TEXTS
    assert "f" not in types and "e" not in types


def test_a_text_longer_than_a_cell_is_cut_on_character_boundaries_and_joined_whole():
    text = "é" * CELL_LIMIT + "😀" * 10 + "z"
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(utf16_length(p) <= CELL_LIMIT for p in pieces)
    assert len(pieces) == 2


def test_a_full_sheet_continues_on_the_next_with_its_header(tmp_path):
    workbook = Workbook(write_only=True)

    def header(stream):
        stream.write(["Code", "Answer"])

    stream = SheetStream(workbook, "Responses", header=header, max_rows=4)
    for number in range(10):
        stream.add([f"q{number}", number])
    stream.close()
    workbook.save(tmp_path / "t.xlsx")
    read = load_workbook(tmp_path / "t.xlsx", read_only=True)
    assert read.sheetnames == ["Responses", "Responses (2)", "Responses (3)", "Responses (4)"]
    rows = [list(r) for s in read.worksheets for r in s.iter_rows(values_only=True)]
    assert rows.count(["Code", "Answer"]) == 4
    assert [r[1] for r in rows if r[0] != "Code"] == list(range(10))
    assert all(sum(1 for _ in s.iter_rows()) <= 4 for s in read.worksheets)


def test_a_text_and_its_continuations_stay_on_one_sheet(tmp_path):
    read, _types, sheets = _round_trip(tmp_path, ["short", "b" * 70_000], max_rows=3)
    assert read == ["short", "b" * 70_000]
    assert len(sheets) == 2


@pytest.mark.parametrize("text", ["_x000D_", "_x005F_", "a_x0041_b"])
def test_literal_escape_sequences_survive(tmp_path, text):
    read, _types, _sheets = _round_trip(tmp_path, [text])
    assert read == [text]
