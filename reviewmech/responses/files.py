"""Uploaded attachments: what is accepted, checking content against the extension, storing under a random key.

The bytes of an attachment live in a folder of the instance under a random storage key (no extension, no
name chosen by the uploader); the database keeps the displayed filename, the size, the SHA-256 and the
content type. The kind of a file is decided by its content (magic numbers, ZIP entries, UTF-8 text), and it
must agree with the extension of its name.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flask_babel import lazy_gettext as _l

CHUNK_BYTES = 64 * 1024
HEAD_BYTES = 4096
MAX_FILENAME_CHARS = 200
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    """A kind of file that is accepted: its extensions (the first is the usual one) and content type."""

    label: str
    extensions: tuple[str, ...]
    content_type: str


ALLOWED: dict[str, FileKind] = {
    "pdf": FileKind("PDF", (".pdf",), "application/pdf"),
    "docx": FileKind(
        "DOCX", (".docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "xlsx": FileKind("XLSX", (".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "odt": FileKind("ODT", (".odt",), "application/vnd.oasis.opendocument.text"),
    "txt": FileKind("TXT", (".txt",), "text/plain; charset=utf-8"),
    "png": FileKind("PNG", (".png",), "image/png"),
    "jpeg": FileKind("JPEG", (".jpg", ".jpeg"), "image/jpeg"),
    "gif": FileKind("GIF", (".gif",), "image/gif"),
    "webp": FileKind("WebP", (".webp",), "image/webp"),
}

KIND_BY_EXTENSION: dict[str, str] = {
    extension: kind for kind, file_kind in ALLOWED.items() for extension in file_kind.extensions
}

_ZIP_MAGIC = b"PK\x03\x04"
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# Control characters counted against text: C0 except tab, line feed, form feed and carriage return; DEL; C1.
_CONTROL = re.compile("[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_STORAGE_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")
_KEPT_FORMAT_CHARACTERS = {"\u200c", "\u200d"}  # zero-width non-joiner and joiner, needed by some scripts


class FileRejected(Exception):
    """An upload that is refused; `message` says why, for the person who uploaded it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class StoredFile:
    """A file kept in the attachments folder under its storage key."""

    storage_key: str
    size: int
    sha256: str
    content_type: str
    filename: str


class Readable(Protocol):
    """A binary stream, such as the stream of an uploaded file."""

    def read(self, size: int = -1, /) -> bytes:
        """Return up to `size` bytes; empty at the end."""
        ...


class _TextCheck:
    """Decides, chunk by chunk, whether bytes are UTF-8 text (BOM allowed, no NUL, few control characters)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._valid = True
        self.characters = 0
        self.controls = 0

    def feed(self, data: bytes, final: bool = False) -> None:
        """Take the next bytes; `final` when they are the last."""
        if not self._valid:
            return
        if b"\x00" in data:
            self._valid = False
            return
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError:
            self._valid = False
            return
        self.characters += len(text)
        self.controls += len(_CONTROL.findall(text))

    @property
    def is_text(self) -> bool:
        """Whether everything fed so far is text, with at most 1 % control characters."""
        return self._valid and self.characters > 0 and self.controls * 100 <= self.characters


def _odt_mimetype_is_first(head: bytes) -> bool:
    """Whether the first local entry of a ZIP is `mimetype`, stored uncompressed, naming an ODF text."""
    if len(head) < 30 or not head.startswith(_ZIP_MAGIC):
        return False
    compression = int.from_bytes(head[8:10], "little")
    name_length = int.from_bytes(head[26:28], "little")
    extra_length = int.from_bytes(head[28:30], "little")
    if compression != zipfile.ZIP_STORED or head[30 : 30 + name_length] != b"mimetype":
        return False
    start = 30 + name_length + extra_length
    stored_size = int.from_bytes(head[18:22], "little")
    content = head[start : start + stored_size] if stored_size else head[start : start + len(_ODT_MIMETYPE)]
    return content.strip() == _ODT_MIMETYPE


def detect(head: bytes, zip_names: list[str] | None) -> str | None:
    """Return the kind of a file (a key of ALLOWED) from its first bytes and its ZIP entries, or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(_ZIP_MAGIC):
        if not zip_names:
            return None
        if "word/document.xml" in zip_names:
            return "docx"
        if "xl/workbook.xml" in zip_names:
            return "xlsx"
        if zip_names[0] == "mimetype" and _odt_mimetype_is_first(head):
            return "odt"
        return None
    check = _TextCheck()
    check.feed(head)  # not final: the head may end in the middle of a character
    return "txt" if check.is_text else None


def clean_filename(filename: str) -> str:
    """Return a filename fit for display: no folders or control characters, at most 200 characters, never empty."""
    name = unicodedata.normalize("NFC", filename)
    name = re.split(r"[/\\]", name)[-1]
    characters = []
    for character in name:
        if character.isspace():
            characters.append(" ")
        elif unicodedata.category(character) in {"Cc", "Cs", "Co", "Cn"}:
            continue
        elif unicodedata.category(character) == "Cf" and character not in _KEPT_FORMAT_CHARACTERS:
            continue  # among others the bidirectional overrides that disguise an extension
        else:
            characters.append(character)
    name = re.sub(" +", " ", "".join(characters)).strip().rstrip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot or not _EXTENSION.fullmatch(extension):
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    stem = stem.strip(" .")[: MAX_FILENAME_CHARS - len(suffix)].rstrip(" .")
    return f"{stem or 'attachment'}{suffix}"


def extension_of(filename: str) -> str:
    """Return the extension of a filename, lowercased with its dot (".pdf"), or "" when there is none."""
    _stem, dot, extension = filename.rpartition(".")
    return f".{extension.lower()}" if dot and _EXTENSION.fullmatch(extension) else ""


def _megabytes(size: int) -> str:
    """A size in megabytes as people write it: 20, 1.5, 0.25."""
    return f"{size / MEGABYTE:.3g}"


def _zip_names(path: Path) -> list[str] | None:
    """The entry names of a ZIP file in their order, or None when it is not a readable ZIP; nothing is extracted."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError):
        return None


def store_upload(stream: Readable, filename: str, folder: Path, max_bytes: int) -> StoredFile:
    """Check an upload and keep it in `folder` under a new storage key; raise FileRejected when it is refused."""
    display_name = clean_filename(filename)
    extension = extension_of(display_name)
    expected = KIND_BY_EXTENSION.get(extension)
    if expected is None:
        raise FileRejected(str(_l(
            "Files of this type are not accepted: use PDF, DOCX, ODT, XLSX, TXT or an image (PNG, JPEG, GIF, WebP)."
        )))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    temporary = Path(temporary_name)
    try:
        digest = hashlib.sha256()
        size = 0
        head = b""
        text = _TextCheck() if expected == "txt" else None
        with os.fdopen(descriptor, "wb") as output:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise FileRejected(str(_l(
                        "The file is larger than the limit of %(limit)s MB.", limit=_megabytes(max_bytes)
                    )))
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                if text is not None:
                    text.feed(chunk)
                output.write(chunk)
            output.flush()
            os.fsync(output.fileno())
        if size == 0:
            raise FileRejected(str(_l("The file is empty.")))
        if text is not None:
            text.feed(b"", final=True)
        zip_names = _zip_names(temporary) if head.startswith(_ZIP_MAGIC) else None
        kind = detect(head, zip_names)
        if kind != expected or (text is not None and not text.is_text):
            raise FileRejected(str(_l(
                "The content of this file does not match its extension %(extension)s.", extension=extension
            )))
        storage_key = secrets.token_urlsafe(24)
        os.replace(temporary, folder / storage_key)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return StoredFile(
        storage_key=storage_key,
        size=size,
        sha256=digest.hexdigest(),
        content_type=ALLOWED[expected].content_type,
        filename=display_name,
    )


def _checked_key(storage_key: str) -> str:
    """Return the key when it is made of the characters of `secrets.token_urlsafe`; raise ValueError otherwise."""
    if not isinstance(storage_key, str) or not _STORAGE_KEY.fullmatch(storage_key):
        raise ValueError("not a storage key")
    return storage_key


def open_stored(folder: Path, storage_key: str) -> Path:
    """Return the path of a stored file; ValueError for a malformed key, FileNotFoundError when it is missing."""
    path = folder / _checked_key(storage_key)
    if not path.is_file():
        raise FileNotFoundError(storage_key)
    return path


def delete_stored(folder: Path, storage_key: str) -> None:
    """Remove a stored file if it is there; ValueError for a malformed key."""
    (folder / _checked_key(storage_key)).unlink(missing_ok=True)
