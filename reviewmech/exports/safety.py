"""Checks on a workbook file before any spreadsheet code parses it.

A workbook is a zip of XML files. Before openpyxl reads one, this module makes sure it is a
well-formed zip of a workbook whose declared uncompressed sizes stay within limits (a zip bomb
declares sizes far above its compressed ones; the zip reader never inflates past what a member
declares), and that no XML part declares a document type or entities (which Excel never writes;
defusedxml refuses them again inside openpyxl).
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _

from reviewmech.core.errors import DomainError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old .xls (or any Office 97 file)
ZIP_MAGIC = b"PK\x03\x04"
REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
XML_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")


class WorkbookRefused(DomainError):
    """A workbook that cannot be read, with the reason a person can act on."""


@dataclass(frozen=True)
class Limits:
    """How large a workbook may be, packed and unpacked."""

    max_bytes: int = 20 * 1024 * 1024
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_ratio: int = 100  # unpacked ÷ packed size of one part (ordinary XML stays well under 30)
    max_parts: int = 2_000


DEFAULT_LIMITS = Limits()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def check_workbook_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse (WorkbookRefused) a file that is not a safe .xlsx workbook; read nothing but its zip directory."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise WorkbookRefused(_("The file is larger than %(limit)s.", limit=_megabytes(limits.max_bytes)))
    with path.open("rb") as stream:
        head = stream.read(8)
    if head.startswith(OLE_MAGIC):
        raise WorkbookRefused(_("This is an old Excel file (.xls). Save it as an Excel workbook (.xlsx) and import "
                                "that file."))
    if not head.startswith(ZIP_MAGIC):
        raise WorkbookRefused(_("This file is not an Excel workbook (.xlsx)."))
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            if not all(part in names for part in REQUIRED_PARTS):
                raise WorkbookRefused(_("This file is not an Excel workbook (.xlsx)."))
            if len(members) > limits.max_parts:
                raise WorkbookRefused(_("The workbook holds too many parts to be a questionnaire (%(n)d).",
                                        n=len(members)))
            unpacked = sum(member.file_size for member in members)
            if unpacked > limits.max_unpacked_bytes:
                raise WorkbookRefused(_("The workbook would take more than %(limit)s once unpacked; it is refused.",
                                        limit=_megabytes(limits.max_unpacked_bytes)))
            for member in members:
                ratio = member.file_size / max(member.compress_size, 1)
                if member.file_size > 1024 * 1024 and ratio > limits.max_ratio:
                    raise WorkbookRefused(_("The workbook is compressed far beyond what a spreadsheet can be (a "
                                            "“zip bomb”); it is refused."))
            for member in members:
                _check_part(archive, member)
    except zipfile.BadZipFile as error:
        raise WorkbookRefused(_("The file is damaged: it is not a readable Excel workbook.")) from error
    except (zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError, OSError) as error:
        raise WorkbookRefused(_("The file is damaged: it is not a readable Excel workbook.")) from error


def _check_part(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    """Read one part through (its checksum is verified at the end) and refuse XML declarations in it."""
    is_xml = member.filename.endswith((".xml", ".rels", ".vml"))
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1024 * 1024):
            if is_xml:
                window = (tail + chunk).upper()
                if any(declaration in window for declaration in XML_DECLARATIONS):
                    raise WorkbookRefused(_("The workbook contains XML declarations (DOCTYPE or ENTITY) that Excel "
                                            "never writes; it is refused."))
                tail = chunk[-16:]
