"""For test modules that need no database: import `_no_database` and their tests get no app and run once."""

import pytest


@pytest.fixture(autouse=True, name="_isolated")
def _no_database():
    """Replace the database isolation of tests/conftest.py: no app, no transaction, one run (not one per database)."""
    yield
