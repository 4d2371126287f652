"""Embedded SecantusDB server lifecycle: start, reuse, stop, restart on the same data, stale state files."""

import json
import socket
import subprocess
import sys

import pymongo
import pytest

from contactflow.store import embedded


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.mark.slow
def test_start_reuse_stop_restart_keeps_data(tmp_path):
    st = embedded.start_server(tmp_path)
    try:
        assert embedded._alive(st.pid) and port_open(st.port)
        assert st.data_dir == str(tmp_path / "db")
        assert json.loads((tmp_path / "server.json").read_text()) == {
            "pid": st.pid, "port": st.port, "data_dir": st.data_dir}
        again = embedded.start_server(tmp_path)
        assert (again.pid, again.port) == (st.pid, st.port)
        assert embedded.read_state(tmp_path) == st
        with pymongo.MongoClient(st.uri, journal=True) as c:
            c.life.docs.insert_one({"k": "kept", "w_sep_J_per_m2": 0.5})
    finally:
        assert embedded.stop_server(tmp_path) is True
    assert not embedded._alive(st.pid)
    assert not port_open(st.port)
    assert not (tmp_path / "server.json").exists()
    assert embedded.read_state(tmp_path) is None
    assert embedded.stop_server(tmp_path) is False

    st2 = embedded.start_server(tmp_path)
    try:
        assert st2.pid != st.pid
        with pymongo.MongoClient(st2.uri) as c:
            assert c.life.docs.find_one({"k": "kept"}, {"_id": 0}) == {"k": "kept", "w_sep_J_per_m2": 0.5}
    finally:
        embedded.stop_server(tmp_path)


@pytest.mark.slow
def test_stale_state_file_with_dead_pid_starts_a_new_server(tmp_path):
    stale = {"pid": dead_pid(), "port": embedded.free_port(), "data_dir": str(tmp_path / "db")}
    (tmp_path / "server.json").write_text(json.dumps(stale))
    assert embedded.read_state(tmp_path) is None
    st = embedded.start_server(tmp_path)
    try:
        assert st.pid != stale["pid"] and embedded._alive(st.pid)
        assert json.loads((tmp_path / "server.json").read_text())["pid"] == st.pid
        with pymongo.MongoClient(st.uri, serverSelectionTimeoutMS=2000) as c:
            assert c.admin.command("ping")["ok"] == 1
    finally:
        assert embedded.stop_server(tmp_path) is True


def test_stop_never_signals_an_unrelated_process_with_a_reused_pid(tmp_path):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = {"pid": bystander.pid, "port": embedded.free_port(), "data_dir": str(tmp_path / "db")}
        (tmp_path / "server.json").write_text(json.dumps(stale))
        assert embedded.read_state(tmp_path) is None  # alive pid, but no server answers on the port
        assert embedded.stop_server(tmp_path) is False
        assert bystander.poll() is None, "stop_server killed a process that was not the store"
        assert not (tmp_path / "server.json").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_corrupt_state_file_is_ignored(tmp_path):
    (tmp_path / "server.json").write_text("{not json")
    assert embedded.read_state(tmp_path) is None
    assert embedded.stop_server(tmp_path) is False
    assert not (tmp_path / "server.json").exists()
