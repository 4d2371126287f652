"""The CLI's error contract and store commands, run as the installed ``contactflow`` executable.

User errors (unreachable store, unknown engine, corrupt config, bad format) exit 2 with one line on
stderr starting with ``error:``, never show a password, and leave stored documents untouched.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from contactflow.schemas import AdhesionDoc
from contactflow.store import embedded

EXE = shutil.which("contactflow", path=str(Path(sys.executable).parent)) or "contactflow"
PASSWORD = "s3cretPW"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(home: Path, uri: str | None = None, db: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CONTACTFLOW_MONGO_URI", "CONTACTFLOW_DB")}
    env["CONTACTFLOW_HOME"] = str(home)
    if uri:
        env["CONTACTFLOW_MONGO_URI"] = uri
    if db:
        env["CONTACTFLOW_DB"] = db
    return env


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([EXE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=timeout)


def seed(store) -> dict:
    doc = AdhesionDoc(doc_key="seed-1", interface_id="iface-seed", recipe_name="si_graphite", system="Si/C",
                      engine="chgnet+d3", state="successful", area_A2=61.2, n_atoms=68, relaxed=False,
                      w_sep_rigid_J_per_m2=0.51, w_sep_J_per_m2=0.51)
    store.upsert(doc)
    return store.get("adhesion", "seed-1")


@pytest.mark.slow
def test_user_errors_exit_2_with_one_line_and_touch_nothing(store, store_uri, tmp_path):
    db = store.settings.database
    before = seed(store)
    bad_home = tmp_path / "corrupt"
    bad_home.mkdir()
    (bad_home / "config.yaml").write_text("mongo_uri: [mongodb://h:1\n")
    dead = f"mongodb://alice:{PASSWORD}@127.0.0.1:{closed_port()}/"
    ok_home = tmp_path / "ok"
    cases = {
        # name: (args, env, text the error line must contain)
        "unreachable": (["query", "adhesion"], cli_env(ok_home, dead, db), "cannot reach MongoDB"),
        "status-unreachable": (["store", "status"], cli_env(ok_home, dead, db), "cannot reach MongoDB"),
        "engine": (["demo", "--engine", "nonsense"], cli_env(ok_home, store_uri, db),
                   "unknown engine 'nonsense'"),
        "engine-markup": (["demo", "--engine", "[/]x"], cli_env(ok_home, store_uri, db),
                          "unknown engine '[/]x'"),
        "corrupt-config": (["query", "adhesion"], cli_env(bad_home, None, db), "is not valid YAML"),
        "format": (["query", "adhesion", "--format", "xml"], cli_env(ok_home, store_uri, db),
                   "unknown format 'xml'; valid formats: table, json, csv"),
    }
    # run them side by side: the unreachable ones each wait out the server-selection timeout
    procs = {name: start(args, env) for name, (args, env, _) in cases.items()}
    stdout = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        stdout[name] = out
        expected = cases[name][2]
        assert proc.returncode == 2, (name, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith("error: ") and expected in lines[0], (name, err)
        assert "Traceback" not in out + err
        assert PASSWORD not in out + err, (name, out, err)
    assert "store: mongodb://alice:***@127.0.0.1:" in stdout["status-unreachable"]  # redacted, not hidden
    assert store.count("adhesion") == 1
    assert store.get("adhesion", "seed-1") == before
    assert store.count("interfaces") == 0


def test_query_reads_what_the_store_holds(store, tmp_path):
    before = seed(store)
    env = cli_env(tmp_path, store.settings.uri, store.settings.database)
    r = run(["query", "adhesion", "--format", "json"], env)
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    assert [d["doc_key"] for d in docs] == ["seed-1"]
    assert docs[0]["w_sep_J_per_m2"] == pytest.approx(0.51)
    r = run(["query", "adhesion", "--format", "csv", "--engine", "mace:none"], env)
    assert r.returncode == 0 and r.stdout.splitlines() == [r.stdout.splitlines()[0]]  # header, no rows
    r = run(["query", "adhesion", "--format", "csv", "--recipe", "si_graphite"], env)
    header, row = r.stdout.strip().splitlines()
    assert header.startswith("recipe_name,system,engine,state") and row.startswith("si_graphite,Si/C,chgnet+d3")
    assert store.get("adhesion", "seed-1") == before


@pytest.mark.slow
def test_store_start_status_stop(tmp_path):
    env = cli_env(tmp_path)
    try:
        r = run(["store", "status"], env)
        assert r.returncode == 0 and "not running" in r.stdout
        r = run(["store", "start"], env)
        assert r.returncode == 0, r.stderr
        st = embedded.read_state(tmp_path)
        assert st is not None and f"embedded store running: {st.uri}" in r.stdout
        r = run(["store", "start"], env)  # reuse, same server
        assert embedded.read_state(tmp_path) == st and f"pid {st.pid}" in r.stdout
        r = run(["store", "status"], env)
        assert r.returncode == 0, r.stderr
        assert f"running at {st.uri}" in r.stdout
        assert "adhesion" in r.stdout and "interfaces" in r.stdout
        r = run(["store", "stop"], env)
        assert r.returncode == 0 and r.stdout.strip() == "stopped"
        assert not embedded._alive(st.pid) or not embedded._is_server(st)
        r = run(["store", "stop"], env)
        assert r.returncode == 0 and "no embedded store was running" in r.stdout
        r = run(["store", "status"], env)
        assert "not running" in r.stdout
    finally:
        embedded.stop_server(tmp_path)
