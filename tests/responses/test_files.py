"""Uploaded attachments: accepted kinds, refusals that leave nothing behind, storage keys and filenames."""

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from openpyxl import Workbook

from reviewmech.responses.files import (
    ALLOWED,
    FileRejected,
    clean_filename,
    delete_stored,
    detect,
    open_stored,
    store_upload,
)

MB = 1024 * 1024
LIMIT = MB
TYPE_REFUSED = (
    "Files of this type are not accepted: use PDF, DOCX, ODT, XLSX, TXT or an image (PNG, JPEG, GIF, WebP)."
)
KEY_CHARACTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def zip_bytes(entries, stored_first=False):
    """A ZIP archive with `entries` (name, bytes) in order; the first stored uncompressed if asked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            stored = stored_first and index == 0
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def pdf_sample():
    return (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def docx_sample():
    return zip_bytes([
        ("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                'package/2006/content-types"/>'),
        ("_rels/.rels", '<?xml version="1.0"?><Relationships/>'),
        ("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                              'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Article 1</w:t></w:r></w:p>'
                              '</w:body></w:document>'),
    ])


def xlsx_sample():
    workbook = Workbook()
    workbook.active["A1"] = "Budget 2024"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def odt_sample(mimetype="application/vnd.oasis.opendocument.text", mimetype_first=True):
    entries = [
        ("mimetype", mimetype),
        ("content.xml", '<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:'
                        'opendocument:xmlns:office:1.0"/>'),
        ("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                                  'opendocument:xmlns:manifest:1.0"/>'),
    ]
    if not mimetype_first:
        entries.append(entries.pop(0))
    return zip_bytes(entries, stored_first=mimetype_first)


def png_sample():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
            + chunk(b"IEND", b""))


def jpeg_sample():
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def gif_sample():
    return (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
            b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def webp_sample():
    payload = b"WEBPVP8L" + struct.pack("<I", 10) + b"\x2f\x00\x00\x00\x00\x07\x10\x11\x11\x00"
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def leftovers(folder: Path):
    """Whatever is in the folder (hidden temporary files included)."""
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def store(data, filename, folder, max_bytes=LIMIT):
    return store_upload(io.BytesIO(data), filename, folder, max_bytes)


def refusal(data, filename, folder, max_bytes=LIMIT):
    with pytest.raises(FileRejected) as caught:
        store(data, filename, folder, max_bytes)
    assert leftovers(folder) == []
    return caught.value.message


SAMPLES = {
    "pdf": ("Loi 2020-15.pdf", pdf_sample, "application/pdf"),
    "docx": ("Code pénal.docx", docx_sample,
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("budget.xlsx", xlsx_sample, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "odt": ("décret.odt", odt_sample, "application/vnd.oasis.opendocument.text"),
    "txt": ("notes.txt", lambda: "Article 3 — la loi s’applique.\r\n".encode(), "text/plain; charset=utf-8"),
    "txt-bom": ("notes.txt", lambda: b"\xef\xbb\xbfAvec BOM\n", "text/plain; charset=utf-8"),
    "png": ("scan.png", png_sample, "image/png"),
    "jpeg": ("photo.jpeg", jpeg_sample, "image/jpeg"),
    "jpg": ("Photo.JPG", jpeg_sample, "image/jpeg"),
    "gif": ("chart.gif", gif_sample, "image/gif"),
    "webp": ("chart.webp", webp_sample, "image/webp"),
}


@pytest.mark.parametrize("sample", SAMPLES)
def test_each_accepted_kind_is_stored_under_a_random_key(tmp_path, sample):
    filename, make, content_type = SAMPLES[sample]
    data = make()
    folder = tmp_path / "attachments"

    stored = store(data, filename, folder)

    assert stored.content_type == content_type
    assert stored.filename == filename
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert len(stored.storage_key) == 32 and set(stored.storage_key) <= KEY_CHARACTERS
    assert leftovers(folder) == [stored.storage_key]
    assert open_stored(folder, stored.storage_key).read_bytes() == data
    assert folder.stat().st_mode & 0o777 == 0o700


def test_every_kind_is_covered_and_has_a_content_type():
    assert set(ALLOWED) == {"pdf", "docx", "xlsx", "odt", "txt", "png", "jpeg", "gif", "webp"}
    assert ALLOWED["jpeg"].extensions == (".jpg", ".jpeg")
    assert ALLOWED["txt"].content_type == "text/plain; charset=utf-8"


def test_each_upload_gets_its_own_key(tmp_path):
    first = store(pdf_sample(), "a.pdf", tmp_path)
    second = store(pdf_sample(), "a.pdf", tmp_path)
    assert first.storage_key != second.storage_key
    assert first.sha256 == second.sha256
    assert leftovers(tmp_path) == sorted([first.storage_key, second.storage_key])


def test_a_file_of_many_chunks_has_the_right_size_and_sha256(tmp_path):
    data = ("Ley de género, artículo 7.\n" * 20_000).encode()
    assert len(data) > 4 * 64 * 1024
    stored = store(data, "ley.txt", tmp_path)
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert open_stored(tmp_path, stored.storage_key).read_bytes() == data


def test_a_file_exactly_at_the_limit_is_accepted(tmp_path):
    stored = store(b"a" * LIMIT, "big.txt", tmp_path)
    assert stored.size == LIMIT


def test_a_file_one_byte_over_the_limit_is_refused(tmp_path):
    message = refusal(b"a" * (LIMIT + 1), "big.txt", tmp_path)
    assert message == "The file is larger than the limit of 1 MB."


def test_the_limit_is_said_in_megabytes(tmp_path):
    message = refusal(b"%PDF-" + b"a" * (3 * MB // 2), "big.pdf", tmp_path, max_bytes=3 * MB // 2)
    assert message == "The file is larger than the limit of 1.5 MB."


def test_reading_stops_once_the_limit_is_passed(tmp_path):
    class Endless:
        reads = 0

        def read(self, size=-1):
            self.reads += 1
            return b"a" * size

    stream = Endless()
    with pytest.raises(FileRejected):
        store_upload(stream, "endless.txt", tmp_path, LIMIT)
    assert stream.reads <= LIMIT // (64 * 1024) + 1
    assert leftovers(tmp_path) == []


def test_an_empty_file_is_refused(tmp_path):
    assert refusal(b"", "empty.pdf", tmp_path) == "The file is empty."


@pytest.mark.parametrize("filename", ["setup.exe", "archive.zip", "page.html", "script.pdf.js", "README", "", ".."])
def test_a_type_not_accepted_is_refused(tmp_path, filename):
    assert refusal(pdf_sample(), filename, tmp_path) == TYPE_REFUSED


@pytest.mark.parametrize(
    ("filename", "make"),
    [
        ("law.docx", pdf_sample),  # a PDF named .docx
        ("law.pdf", lambda: b"Just some text, not a PDF.\n"),  # a text named .pdf
        ("law.xlsx", docx_sample),
        ("law.docx", xlsx_sample),
        ("law.odt", docx_sample),
        ("law.odt", lambda: odt_sample(mimetype="application/vnd.oasis.opendocument.spreadsheet")),
        ("law.odt", lambda: odt_sample(mimetype_first=False)),
        ("law.docx", lambda: zip_bytes([("word/other.xml", "<x/>")])),
        ("law.docx", lambda: b"PK\x03\x04" + b"\x00" * 200),  # not a readable ZIP
        ("law.docx", lambda: docx_sample()[:-30]),  # central directory cut off
        ("law.jpg", png_sample),
        ("law.png", gif_sample),
        ("law.webp", lambda: b"RIFF\x10\x00\x00\x00WAVEfmt "),
        ("law.txt", pdf_sample),
        ("law.txt", png_sample),
        ("law.txt", docx_sample),
        ("law.txt", lambda: b"text with a NUL\x00 byte\n"),
        ("law.txt", lambda: "latin-1 café\n".encode("latin-1")),
        ("law.txt", lambda: "UTF-16 text\n".encode("utf-16")),
        ("law.txt", lambda: b"bell\x07\x07\x07 escape\x1b\x1b\x1b\n"),
        ("law.txt", lambda: b"a" * (300 * 1024) + b"\xff\xfe broken after the head\n"),
        ("law.txt", lambda: b"a" * (300 * 1024) + b"\x00"),
        ("law.txt", lambda: b"ends in half a character \xc3"),
        ("law.pdf", lambda: b" %PDF-1.4"),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(tmp_path, filename, make):
    extension = "." + filename.rsplit(".", 1)[1]
    message = refusal(make(), filename, tmp_path)
    assert message == f"The content of this file does not match its extension {extension}."


def test_the_extension_is_named_in_lower_case(tmp_path):
    message = refusal(pdf_sample(), "Report.DOCX", tmp_path)
    assert message == "The content of this file does not match its extension .docx."


def test_a_stream_that_fails_leaves_nothing_behind(tmp_path):
    class Broken:
        def __init__(self):
            self.calls = 0

        def read(self, size=-1):
            self.calls += 1
            if self.calls > 2:
                raise OSError("connection reset")
            return b"%PDF-" + b"a" * 1000

    with pytest.raises(OSError, match="connection reset"):
        store_upload(Broken(), "law.pdf", tmp_path, LIMIT)
    assert leftovers(tmp_path) == []


def test_the_folder_is_created_private(tmp_path):
    folder = tmp_path / "instance" / "attachments"
    store(pdf_sample(), "law.pdf", folder)
    assert folder.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    "key",
    ["../secret", "..", ".", "", "a/b", "a\\b", "/etc/passwd", "key.pdf", "%2e%2e", "abc\n", "abc\x00",
     "ключ", "a" * 129, ".upload-abc.part"],
)
def test_keys_outside_the_token_alphabet_are_refused(tmp_path, key):
    (tmp_path / "secret").write_text("not an attachment")
    with pytest.raises(ValueError):
        open_stored(tmp_path / "attachments", key)
    with pytest.raises(ValueError):
        delete_stored(tmp_path / "attachments", key)
    assert (tmp_path / "secret").exists()


def test_a_missing_stored_file_is_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_stored(tmp_path, "NoSuchKey_0123456789-abcdefghijk")


def test_deleting_removes_the_file_and_tolerates_a_missing_one(tmp_path):
    stored = store(pdf_sample(), "law.pdf", tmp_path)
    delete_stored(tmp_path, stored.storage_key)
    assert leftovers(tmp_path) == []
    delete_stored(tmp_path, stored.storage_key)
    with pytest.raises(FileNotFoundError):
        open_stored(tmp_path, stored.storage_key)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("C:\\Users\\ana\\Desktop\\Ley 12.pdf", "Ley 12.pdf"),
        ("/home/ana/report.pdf", "report.pdf"),
        ("rap\x00port\x07\x1b.pdf", "rapport.pdf"),
        ("two\nlines\tand  spaces.pdf", "two lines and spaces.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # a right-to-left override hiding .exe
        ("\ufeffbom.txt", "bom.txt"),
        ("Ley de género – 2020.pdf", "Ley de género – 2020.pdf"),
        ("قانون العقوبات.docx", "قانون العقوبات.docx"),
        ("می\u200cخواهم.odt", "می\u200cخواهم.odt"),  # the zero-width non-joiner of Persian is kept
        ("刑法 第3条.pdf", "刑法 第3条.pdf"),
        ("Закон.PDF", "Закон.PDF"),
        ("cafe\u0301.txt", "café.txt"),  # composed
        ("  spaced name.pdf  ", "spaced name.pdf"),
        ("trailing dots.pdf...", "trailing dots.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("", "attachment"),
        ("   ", "attachment"),
        ("../../", "attachment"),
        (".pdf", "attachment.pdf"),
        ("\x01\x02.pdf", "attachment.pdf"),
        ("..\\.docx", "attachment.docx"),
    ],
)
def test_filenames_are_cleaned_for_display(given, kept):
    assert clean_filename(given) == kept


def test_a_long_filename_is_cut_to_200_characters_keeping_its_extension():
    cleaned = clean_filename("é" * 500 + ".pdf")
    assert len(cleaned) == 200
    assert cleaned == "é" * 196 + ".pdf"
    assert len(clean_filename("x" * 500)) == 200


def test_the_stored_filename_is_cleaned(tmp_path):
    folder = tmp_path / "attachments"
    stored = store(b"root:x:0:0\n", "../../etc/passwd.txt", folder)
    assert stored.filename == "passwd.txt"
    assert leftovers(folder) == [stored.storage_key]
    assert not (tmp_path / "etc").exists()

    assert store(pdf_sample(), "\x01\x02.pdf", folder).filename == "attachment.pdf"
    assert len(store(pdf_sample(), "n" * 500 + ".pdf", folder).filename) == 200


def test_a_path_component_does_not_lend_its_extension(tmp_path):
    assert refusal(pdf_sample(), "folder.pdf/passwd", tmp_path) == TYPE_REFUSED


@pytest.mark.parametrize(
    ("head", "zip_names", "kind"),
    [
        (b"%PDF-1.7", None, "pdf"),
        (b"\x89PNG\r\n\x1a\n", None, "png"),
        (b"\xff\xd8\xff\xdb", None, "jpeg"),
        (b"GIF87a", None, "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", None, "webp"),
        (b"PK\x03\x04", None, None),
        (b"PK\x03\x04", ["word/document.xml"], "docx"),
        (b"PK\x03\x04", ["xl/workbook.xml"], "xlsx"),
        (b"PK\x03\x04", ["mimetype"], None),  # the head says nothing of its content
        (b"PK\x03\x04", ["readme.txt"], None),
        (b"plain text", None, "txt"),
        (b"\xef\xbb\xbftext after a BOM", None, "txt"),
        ("a cut charact\u00e8re".encode()[:-2], None, "txt"),  # the head may end within a character
        (b"", None, None),
        (b"\xef\xbb\xbf", None, None),
        (b"\x00\x01\x02", None, None),
        (b"MZ\x90\x00", None, None),
    ],
)
def test_detect_reads_the_content(head, zip_names, kind):
    assert detect(head, zip_names) == kind


def test_detect_recognises_an_odt_by_its_first_entry():
    data = odt_sample()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    assert detect(data[:4096], names) == "odt"
