"""`reviewmech backup`: the database and the attached files in one archive, or a one-line reason."""

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import pytest


def _extract(archive: Path, into: Path) -> dict:
    with tarfile.open(archive) as bundle:
        bundle.extractall(into, filter="data")
    return json.loads((into / "manifest.json").read_text())


def test_a_backup_holds_the_database_and_the_attached_files(app, runner, tmp_path, database_url):
    attachments = Path(app.instance_path) / "attachments"
    attachments.mkdir(exist_ok=True)
    (attachments / "backup-test-file").write_bytes(b"%PDF-1.4 evidence")
    try:
        result = runner.invoke(args=["backup", "--out", str(tmp_path / "out")])
    finally:
        (attachments / "backup-test-file").unlink()
    assert result.exit_code == 0, result.output
    archive = next((tmp_path / "out").glob("reviewmech-backup-*.tar.gz"))
    assert f"Backup written to {archive}" in result.output
    assert archive.stat().st_mode & 0o777 == 0o600
    manifest = _extract(archive, tmp_path / "x")
    assert manifest["migration"] and manifest["files"]["attachments/backup-test-file"] == hashlib.sha256(
        b"%PDF-1.4 evidence").hexdigest()
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((tmp_path / "x" / name).read_bytes()).hexdigest() == digest
    if database_url.startswith("sqlite"):
        copy = sqlite3.connect(tmp_path / "x" / "database.sqlite3")
        assert copy.execute("SELECT count(*) FROM states").fetchone()[0] == 193
        copy.close()
    else:
        pg_restore = shutil.which("pg_restore")
        if pg_restore is None:
            pytest.skip("pg_restore is not installed")
        listing = subprocess.run([pg_restore, "--list", str(tmp_path / "x" / "database.pgdump")],  # noqa: S603
                                 capture_output=True, text=True, check=True).stdout
        assert "TABLE DATA public states" in listing and "TABLE DATA public answers" in listing


def test_a_backup_that_cannot_be_written_says_why_and_leaves_nothing(runner, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = runner.invoke(args=["backup", "--out", str(blocker / "backups")])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: no backup made: cannot create")
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
