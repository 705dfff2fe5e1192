"""Workbooks refused before any parsing: not a workbook, damaged, a zip bomb, XML entity tricks."""

import zipfile

import pytest
from openpyxl import Workbook

from reviewmech.exports.offline import key_for, read_offline
from reviewmech.exports.safety import Limits, WorkbookRefused, check_workbook_file
from tests.pure import _no_database  # noqa: F401 - these tests need no database

KEY = key_for("a secret")


def _workbook(tmp_path):
    workbook = Workbook()
    workbook.active["A1"] = "hello"
    path = tmp_path / "real.xlsx"
    workbook.save(path)
    return path


def _refused(path, message, limits=None):
    with pytest.raises(WorkbookRefused) as caught:
        read_offline(path, KEY, limits or Limits())
    assert message in caught.value.message


def test_a_text_file_is_not_a_workbook(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("answer 1.1: yes")
    _refused(path, "not an Excel workbook (.xlsx)")


def test_an_old_xls_file_is_named_as_such(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    _refused(path, "old Excel file (.xls)")


def test_a_zip_that_is_no_workbook_is_refused(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    _refused(path, "not an Excel workbook")


def test_a_cut_workbook_is_damaged(tmp_path):
    data = _workbook(tmp_path).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    _refused(path, "damaged")


def test_a_workbook_with_a_corrupted_part_is_damaged(tmp_path):
    source = _workbook(tmp_path)
    path = tmp_path / "flipped.xlsx"
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        member = archive.getinfo("xl/worksheets/sheet1.xml")
    start = member.header_offset + 30 + len(member.filename) + len(member.extra) + 5
    data[start] ^= 0xFF
    path.write_bytes(bytes(data))
    _refused(path, "damaged")


def _bomb(path, size):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            block = b" " * (1024 * 1024)
            for _ in range(size // len(block)):
                part.write(block)


def test_a_zip_bomb_is_refused_from_its_declared_sizes(tmp_path):
    path = tmp_path / "bomb.xlsx"
    _bomb(path, 64 * 1024 * 1024)
    assert path.stat().st_size < 1024 * 1024
    _refused(path, "zip bomb")


def test_a_workbook_too_large_once_unpacked_is_refused(tmp_path):
    path = tmp_path / "large.xlsx"
    _bomb(path, 8 * 1024 * 1024)
    _refused(path, "once unpacked", Limits(max_unpacked_bytes=4 * 1024 * 1024, max_ratio=10_000))


def test_a_file_larger_than_allowed_is_refused(tmp_path):
    _refused(_workbook(tmp_path), "larger than", Limits(max_bytes=1000))


def _with_part(tmp_path, name, content):
    source = _workbook(tmp_path)
    path = tmp_path / "entities.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as archive:
        for item in original.infolist():
            archive.writestr(item, content if item.filename == name else original.read(item))
    return path


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
          b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
          b'<c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>')


def test_xml_entities_are_refused(tmp_path):
    _refused(_with_part(tmp_path, "xl/worksheets/sheet1.xml", LAUGHS), "DOCTYPE or ENTITY")


def test_openpyxl_parses_through_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True


def test_a_workbook_not_exported_here_is_refused(tmp_path):
    _refused(_workbook(tmp_path), "not an offline questionnaire")


def test_an_ordinary_workbook_passes_the_file_checks(tmp_path):
    check_workbook_file(_workbook(tmp_path))
