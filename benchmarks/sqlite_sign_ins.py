"""How many people can sign in at the same moment on the embedded SQLite default.

Run: python benchmarks/sqlite_sign_ins.py [--people 4 8 16 32 64]

For each number of people, makes a fresh SQLite file (migrated as `make run` does), creates that many
accounts, and lets as many threads sign in at the same instant (a barrier), each then opening the
dashboard. Prints how many got in, how many were refused and with which status, and the slowest
sign-in, with its ratio to one sign-in alone measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("REVIEWMECH_INSTANCE_PATH", tempfile.mkdtemp(prefix="reviewmech-bench-"))

from flask_migrate import upgrade  # noqa: E402

from reviewmech import create_app  # noqa: E402
from reviewmech.accounts.models import AccountStatus, User  # noqa: E402
from reviewmech.accounts.services import hash_password  # noqa: E402
from reviewmech.extensions import db  # noqa: E402

PASSWORD = "a sufficiently long benchmark passphrase"  # noqa: S105 - accounts made for the run


def prepared_app(folder: Path, people: int):
    """An app on a new SQLite file with `people` active accounts."""
    app = create_app({"SECRET_KEY": "benchmark", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}"})
    with app.app_context():
        upgrade()
        password_hash = hash_password(PASSWORD)
        db.session.add_all(User(email=f"p{n}@example.org", name=f"Person {n}", password_hash=password_hash,
                                status=AccountStatus.ACTIVE) for n in range(people))
        db.session.commit()
        db.session.remove()
    return app


def sign_in(app, index: int) -> tuple[str, float]:
    """Sign one person in and open the dashboard; return the outcome and the sign-in's duration."""
    client = app.test_client()
    started = time.monotonic()
    response = client.post("/sign-in", data={"email": f"p{index}@example.org", "password": PASSWORD})
    took = time.monotonic() - started
    if response.status_code != 302:
        return str(response.status_code), took
    dashboard = client.get("/").status_code
    return ("ok" if dashboard == 200 else f"dashboard {dashboard}"), took


def at_once(app, people: int) -> list[tuple[str, float]]:
    """Sign `people` people in at the same instant."""
    barrier = threading.Barrier(people)
    results: list[tuple[str, float]] = [("no answer", 0.0)] * people

    def run(index):
        barrier.wait()
        try:
            results[index] = sign_in(app, index)
        except Exception as error:  # a failure is a result to count, not a reason to stop
            results[index] = (type(error).__name__, 0.0)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = prepared_app(Path(folder), 1)
        alone = min(sign_in(app, 0)[1] for _ in range(5))
        with app.app_context():
            db.engine.dispose()
    print(f"one sign-in alone: {alone * 1000:.0f} ms (baseline)")
    for people in arguments.people:
        with tempfile.TemporaryDirectory() as folder:
            app = prepared_app(Path(folder), people)
            results = at_once(app, people)
            with app.app_context():
                db.engine.dispose()
        refused: dict[str, int] = {}
        for outcome, _took in results:
            if outcome != "ok":
                refused[outcome] = refused.get(outcome, 0) + 1
        slowest = max(took for _outcome, took in results)
        print(f"{people:3d} at once: {people - sum(refused.values()):3d} signed in, refused {refused or 'none'}, "
              f"slowest sign-in {slowest:.2f} s ({slowest / alone:.0f}× one alone)")


if __name__ == "__main__":
    main()
