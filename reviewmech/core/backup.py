"""A backup of everything a secretariat must not lose: the database and the attached files, in one archive."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

PG_DUMP_TIMEOUT_S = 3600


class BackupError(Exception):
    """The backup could not be made; the message is one line for the operator."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_sqlite(database: str, target: Path) -> None:
    """A consistent copy of a live SQLite database (its online backup API; WAL included)."""
    if not Path(database).exists():
        raise BackupError(f"the SQLite database {database} does not exist")
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def _dump_postgresql(url, target: Path) -> None:
    """pg_dump in its custom format (restore with pg_restore), the password passed outside the command line."""
    executable = shutil.which("pg_dump")
    if executable is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    arguments = [executable, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}",
                 f"--host={url.host or 'localhost'}", f"--port={url.port or 5432}", f"--username={url.username or ''}",
                 url.database or ""]
    try:
        result = subprocess.run(arguments, env=env, capture_output=True, text=True, timeout=PG_DUMP_TIMEOUT_S,  # noqa: S603
                                check=False)
    except subprocess.TimeoutExpired:
        raise BackupError(f"pg_dump did not finish within {PG_DUMP_TIMEOUT_S} s") from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"pg_dump failed: {reason}")


def make_backup(database_url: str, instance_path: Path, out_dir: Path, *, now: datetime,
                migration: str | None) -> Path:
    """Write `reviewmech-backup-<UTC time>.tar.gz` into `out_dir` and return its path; nothing is left on failure."""
    url = make_url(database_url)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot create {out_dir}: {error.strerror}") from None
    if not os.access(out_dir, os.W_OK):
        raise BackupError(f"cannot write to {out_dir}")
    name = f"reviewmech-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"
    final = out_dir / name
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".backup-") as work:
        work_dir = Path(work)
        if url.get_backend_name() == "sqlite":
            database_file = work_dir / "database.sqlite3"
            _copy_sqlite(url.database or "", database_file)
        elif url.get_backend_name() == "postgresql":
            database_file = work_dir / "database.pgdump"
            _dump_postgresql(url, database_file)
        else:
            raise BackupError(f"no backup for {url.get_backend_name()} databases")
        attachments = Path(instance_path) / "attachments"
        files = sorted(p for p in attachments.rglob("*") if p.is_file()) if attachments.exists() else []
        manifest = {
            "created_at": now.isoformat(), "database": url.get_backend_name(), "migration": migration,
            "files": {database_file.name: _sha256(database_file),
                      **{f"attachments/{p.relative_to(attachments)}": _sha256(p) for p in files}},
        }
        partial = work_dir / name
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
            archive.addfile(info, io.BytesIO(data))
            archive.add(database_file, arcname=database_file.name)
            for path in files:
                archive.add(path, arcname=f"attachments/{path.relative_to(attachments)}")
        partial.chmod(0o600)  # it holds every State's confidential answers
        partial.replace(final)
    return final
