"""The command line's contract (issue 17): bad input is one line ``error: …`` and exit 2, a failed
calculation exits 3, Ctrl-C prints one ``interrupted:`` line and exits 130, and no output file is
replaced without ``--force``. Runs the real CLI in-process (``run_cli``, as the console script) against
the real embedded store."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from contactflow.cli.common import app, check_output_path, write_output
from contactflow.errors import (
    EXIT_BAD_INPUT, EXIT_FAILED_CALCULATION, EXIT_INTERRUPTED, CalculationsFailed, ContactflowError,
)
from contactflow.schemas import AdhesionDoc


def one_error_line(err: str, prefix: str = "error: ") -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def temp_command():
    """Register a throw-away command on the real app for the duration of a test."""
    added = []

    def add(name, fn):
        app.command(name)(fn)
        added.append(name)

    yield add
    app.registered_commands[:] = [c for c in app.registered_commands if c.name not in added]


def test_failed_calculations_exit_3_with_the_count(cli, temp_command):
    def fails():
        raise CalculationsFailed(2, 5, "adhesion on iface-1: CP2K SCF did not converge")

    temp_command("zz-fails", fails)
    code, _, err = cli("zz-fails")
    assert code == EXIT_FAILED_CALCULATION == 3
    line = one_error_line(err)
    assert "2 of 5 calculation(s) failed" in line and "state 'failed'" in line


def test_ctrl_c_exits_130_with_one_line_saying_what_is_kept(cli, temp_command):
    def slow():
        time.sleep(30)

    temp_command("zz-slow", slow)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))  # a real SIGINT, as Ctrl-C sends
    timer.start()
    t0 = time.monotonic()
    code, _, err = cli("zz-slow")
    timer.join()
    assert time.monotonic() - t0 < 10
    assert code == EXIT_INTERRUPTED == 130
    line = one_error_line(err, "interrupted: ")
    assert "results already stored are kept" in line


def test_os_error_anywhere_is_one_line_exit_2(cli, temp_command):
    def unreadable():
        open("/nonexistent/dir/file.txt")

    temp_command("zz-oserror", unreadable)
    code, _, err = cli("zz-oserror")
    assert code == EXIT_BAD_INPUT
    assert "No such file or directory: /nonexistent/dir/file.txt" in one_error_line(err)


def test_usage_errors_keep_click_exit_2(cli):
    code, _, err = cli("query", "adhesion", "--no-such-option")
    assert code == 2 and "No such option" in err


# ------------------------------------------------------------------------------------ output files


def test_check_and_write_output(tmp_path):
    out = tmp_path / "new" / "r.txt"
    write_output(out, "one")
    assert out.read_text() == "one"
    with pytest.raises(ContactflowError, match=r"already exists; pass --force"):
        write_output(out, "two")
    assert out.read_text() == "one"
    write_output(out, "two", force=True)
    assert out.read_text() == "two" and not list(out.parent.glob(".r.txt.*"))  # no temp file left
    with pytest.raises(ContactflowError, match="is a directory"):
        check_output_path(tmp_path, force=True)
    blocker = tmp_path / "plain"
    blocker.write_text("x")
    with pytest.raises(ContactflowError, match="cannot create the folder"):
        check_output_path(blocker / "sub" / "r.txt")


def _unwritable_dir(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o500)
        return d
    d = Path("/sys/kernel")  # refuses writes even from root
    try:
        (d / ".cf-probe").touch()
    except OSError:
        if d.is_dir():
            return d
    else:
        (d / ".cf-probe").unlink()
    pytest.skip("no directory here that root cannot write")


@pytest.fixture
def seeded(store):
    store.upsert(AdhesionDoc(doc_key="seed-1", interface_id="iface-seed", recipe_name="si_graphite", system="Si/C",
                             engine="chgnet+d3", state="successful", area_A2=61.2, n_atoms=68, relaxed=False,
                             w_sep_rigid_J_per_m2=0.51, w_sep_J_per_m2=0.51))
    return store


def test_report_never_overwrites_without_force(seeded, cli, tmp_path):
    out = tmp_path / "report.html"
    code, _, err = cli("report", "si_graphite", "--out", out, "--overview", "none")
    assert code == 0, err
    first = out.read_text()
    out.write_text("my notes")
    code, _, err = cli("report", "si_graphite", "--out", out, "--overview", "none")
    assert code == 2 and "already exists; pass --force" in one_error_line(err)
    assert out.read_text() == "my notes"
    code, _, err = cli("report", "si_graphite", "--out", out, "--overview", "none", "--force")
    assert code == 0 and out.read_text().startswith(first[:50])
    for target, text in ((tmp_path, "is a directory"), (_unwritable_dir(tmp_path) / "r.html", "not writable")):
        code, _, err = cli("report", "si_graphite", "--out", target)
        assert code == 2 and text in one_error_line(err)


@pytest.mark.parametrize("args", [
    ["export", "czm", "si_graphite", "-o"],
    ["export", "diffusivity", "-o"],
    ["export", "pybamm", "-o"],
    ["dataset", "export", "gb"],
])
def test_every_output_file_is_refused_when_it_exists(cli, tmp_path, args):
    out = tmp_path / ("existing.extxyz" if args[0] == "dataset" else "existing.txt")
    out.write_text("keep me")
    code, _, err = cli(*args, out)
    assert code == 2 and "already exists; pass --force" in one_error_line(err)
    assert out.read_text() == "keep me"
    folder = tmp_path / "folder.extxyz"
    folder.mkdir()
    code, _, err = cli(*args, folder)
    assert code == 2 and "is a directory" in one_error_line(err)


def test_plots_refuse_an_existing_image_once_the_document_is_found(store, cli, tmp_path):
    # the plots look their document up first (a missing document is the more useful error), then refuse
    store.collection("barriers").insert_one({"doc_key": "nb-test"})
    store.collection("pull_off").insert_one({"doc_key": "po-test"})
    store.collection("traction_separation").insert_one({"doc_key": "ts-test", "recipe_name": "si_graphite",
                                                        "state": "successful", "engine": "chgnet+d3"})
    out = tmp_path / "existing.png"
    out.write_text("keep me")
    for args in (["plot", "neb", "nb-test"], ["plot", "pull-off", "po-test"],
                 ["plot", "traction-separation", "si_graphite"]):
        code, _, err = cli(*args, "--out", out)
        assert code == 2 and "already exists; pass --force" in one_error_line(err), args
        assert out.read_text() == "keep me"


def test_dev_null_is_written_not_replaced(tmp_path):
    write_output(Path("/dev/null"), "discarded")
    assert Path("/dev/null").is_char_device()


def test_build_refuses_to_overwrite_its_files(cli, tmp_path):
    out = tmp_path / "built"
    out.mkdir()
    (out / "si_graphite_summary.json").write_text("{}")
    code, _, err = cli("build", "si_graphite", "--out", out, "--no-store")
    assert code == 2 and "already exists; pass --force" in one_error_line(err)
    (tmp_path / "afile").write_text("x")
    code, _, err = cli("build", "si_graphite", "--out", tmp_path / "afile", "--no-store")
    assert code == 2 and "is a file" in one_error_line(err)


# ------------------------------------------------------------------------------- bad environment


@pytest.mark.parametrize("case", ["recipes-show", "submit", "config-not-utf8", "config-dir", "db-name",
                                  "home-file", "home-under-file", "home-not-writable", "recipe-dir"])
def test_bad_input_and_environment_are_one_line_exit_2(cli, tmp_path, case):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: caf\xe9\n".encode("latin-1"))
    home = tmp_path / "home"
    home.mkdir()
    plain = tmp_path / "plain"
    plain.write_text("x")
    env = {"CONTACTFLOW_HOME": str(home), "CONTACTFLOW_MONGO_URI": None, "CONTACTFLOW_DB": None}
    args, fragment = {
        "recipes-show": (["recipes", "show", bad], "is not UTF-8 text"),
        "submit": (["submit", bad], "is not UTF-8 text"),
        "config-not-utf8": (["query", "adhesion"], "is not UTF-8 text"),
        "config-dir": (["query", "adhesion"], "is a directory"),
        "db-name": (["query", "adhesion"], "invalid database name 'a.b' from CONTACTFLOW_DB"),
        "home-file": (["query", "adhesion"], "is a file, not a directory"),
        "home-under-file": (["query", "adhesion"], "which is a file"),
        "home-not-writable": (["query", "adhesion"], "is not writable"),
        "recipe-dir": (["recipes", "show", tmp_path], "is a directory"),
    }[case]
    if case == "config-not-utf8":
        (home / "config.yaml").write_bytes(b"database: caf\xe9\n")
    elif case == "config-dir":
        (home / "config.yaml").mkdir()
    elif case == "db-name":
        env["CONTACTFLOW_DB"] = "a.b"
    elif case == "home-file":
        env["CONTACTFLOW_HOME"] = str(plain)
    elif case == "home-under-file":
        env["CONTACTFLOW_HOME"] = str(plain / "home")
    elif case == "home-not-writable":
        env["CONTACTFLOW_HOME"] = str(_unwritable_dir(tmp_path))
    code, _, err = cli(*args, env=env)
    assert code == 2
    assert fragment in one_error_line(err)
