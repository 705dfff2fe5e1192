"""Fixtures for the failure tests: a host that accepts connections and never answers."""

import socket
import threading

import pytest


@pytest.fixture
def silent_host():
    """The port of a local TCP server that accepts every connection and never sends a byte."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(32)
    server.settimeout(0.1)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _address = server.accept()
            except TimeoutError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture
def once(request):
    """For a test that builds its own apps: run it on the SQLite pass only, not again on the PostgreSQL one."""
    if request.node.callspec.params.get("database_url") == "postgresql":
        pytest.skip("needs neither test database: runs once")
