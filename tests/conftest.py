"""Shared fixtures: a real embedded MongoDB-protocol server (SecantusDB) over a socket, never a mock.

The session starts one server in a temporary ``CONTACTFLOW_HOME``; each test that asks for ``store``
gets its own database on it (``CONTACTFLOW_DB``) via the environment, so jobs that open the store
themselves (as they do on a worker) land in the same place.
"""

import os
import uuid

import pytest

from contactflow.store import ContactStore, embedded, load_settings


@pytest.fixture(scope="session", autouse=True)
def contactflow_home(tmp_path_factory):
    """Keep every test away from the user's ~/.contactflow."""
    home = tmp_path_factory.mktemp("cfhome")
    old = {k: os.environ.get(k) for k in ("CONTACTFLOW_HOME", "CONTACTFLOW_MONGO_URI", "CONTACTFLOW_DB")}
    os.environ["CONTACTFLOW_HOME"] = str(home)
    os.environ.pop("CONTACTFLOW_MONGO_URI", None)
    os.environ.pop("CONTACTFLOW_DB", None)
    yield home
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def store_server(tmp_path_factory):
    """One embedded server for the session (its own home), stopped at the end."""
    home = tmp_path_factory.mktemp("server")
    state = embedded.start_server(home)
    yield state
    embedded.stop_server(home)


@pytest.fixture
def store_uri(store_server, monkeypatch):
    """Point contactflow at the session server with a fresh database for this test."""
    db = f"test_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("CONTACTFLOW_MONGO_URI", store_server.uri)
    monkeypatch.setenv("CONTACTFLOW_DB", db)
    yield store_server.uri
    import pymongo

    with pymongo.MongoClient(store_server.uri) as c:
        c.drop_database(db)


@pytest.fixture
def store(store_uri):
    """A ContactStore on this test's database."""
    s = ContactStore(load_settings())
    yield s
    s.close()


@pytest.fixture(scope="session")
def cli():
    """Run the real command line in-process, as the console script does (``run_cli``: one-line errors,
    exit codes); returns ``(exit_code, stdout, stderr)``."""
    import sys

    from typer.testing import CliRunner

    from contactflow.cli.common import run_cli

    def invoke(*args: str, env: dict | None = None) -> tuple[int, str, str]:
        runner = CliRunner()
        with runner.isolation(env=env) as (out, err, _):
            code = run_cli([str(a) for a in args])
            sys.stdout.flush()
            sys.stderr.flush()
            return code, out.getvalue().decode(), err.getvalue().decode()

    return invoke
