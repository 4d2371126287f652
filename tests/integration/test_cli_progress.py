"""Progress on long commands, seen as a user sees it: the CLI in a pseudo-terminal (pexpect) shows
per-stage lines and a progress bar with the time left (``build``, ``run``, ``validate``, ``screen``);
piped or ``--format json`` output has none (a piped ``screen``: tests/integration/test_screening.py)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.slow
#: the installed executable, as users run it
CLI = [shutil.which("contactflow", path=str(Path(sys.executable).parent)) or "contactflow"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def env(store_uri) -> dict:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""), "COLUMNS": "160",
            "TERM": "xterm-256color"}


def in_terminal(args: list[str], environ: dict, timeout: int = 900) -> tuple[int, str]:
    child = pexpect.spawn(CLI[0], CLI[1:] + args, env=environ, encoding="utf-8", timeout=timeout,
                          dimensions=(50, 160))
    out = []
    while True:
        try:
            out.append(child.read_nonblocking(65536, timeout=timeout))
        except pexpect.EOF:
            break
    child.close()
    return child.exitstatus, ANSI.sub("", "".join(out)).replace("\r", "\n")


def test_build_shows_stages_and_a_bar_in_a_terminal_and_nothing_when_piped(store_uri, tmp_path):
    e = env(store_uri)
    rc, screen = in_terminal(["build", "si_graphite", "--out", str(tmp_path / "t")], e)
    assert rc == 0, screen[-2000:]
    assert re.search(r"\d+\.\ds build: building si_graphite interfaces", screen)
    assert re.search(r"writing candidates .*━.* \d+/\d+", screen) and "store: storing" in screen
    assert "elapsed" in screen and "left" in screen
    piped = subprocess.run(CLI + ["build", "si_graphite", "--out", str(tmp_path / "p")], env=e,
                           capture_output=True, text=True, timeout=900)
    assert piped.returncode == 0, piped.stderr
    assert "build:" not in piped.stderr and "elapsed" not in piped.stderr + piped.stdout
    rc, screen = in_terminal(["build", "si_graphite", "--out", str(tmp_path / "j"), "--format", "json"], e)
    assert rc == 0 and "build:" not in screen and "elapsed" not in screen


def test_run_shows_each_job_with_a_bar_and_time_left(store_uri):
    rc, screen = in_terminal(["run", "si_graphite", "--task", "descriptors", "--engine", "chgnet",
                              "--set", "prepare.registry_grid=0", "--set", "prepare.gap_points=3"], env(store_uri))
    assert rc == 0, screen[-3000:]
    for stage in ("build:", "store:", "run: running descriptors"):
        assert stage in screen
    jobs = re.findall(r"job (\d)/(\d): (\S+)", screen)
    assert [(i, n) for i, n, _ in jobs] == [("1", "3"), ("2", "3"), ("3", "3")]
    assert [name.split(":")[0] for _, _, name in jobs] == ["interface", "prepare", "descriptors"]
    assert re.search(r"━.* [0-3]/3 +elapsed", screen) and "left" in screen


def test_validate_shows_a_line_and_a_bar_per_case_and_engine_and_json_stays_clean(store_uri):
    e = env(store_uri)
    rc, screen = in_terminal(["validate", "--case", "graphite_cleavage", "-e", "chgnet", "-e", "chgnet+d3"], e)
    assert rc == 0, screen[-3000:]
    assert re.search(r"\d+\.\ds validate: 1 case\(s\) × 2 engine\(s\) \(chgnet, chgnet\+d3\): 2 jobs", screen)
    jobs = re.findall(r"job (\d)/(\d): validate:(\S+)", screen)
    assert jobs == [("1", "2", "graphite_cleavage:chgnet"), ("2", "2", "graphite_cleavage:chgnet+d3")], jobs
    assert re.search(r"━.* [0-2]/2 +elapsed", screen) and "left" in screen
    assert "graphite_cleavage" in screen.split("job 2/2")[-1]  # the table follows
    rc, screen = in_terminal(["validate", "--case", "graphite_cleavage", "-e", "chgnet", "--format", "json"], e)
    assert rc == 0, screen[-3000:]
    assert "validate:" not in screen and "elapsed" not in screen and "job 1/1" not in screen
    body = screen[screen.index("["):]
    assert '"case_id": "graphite_cleavage"' in body


def test_screen_shows_batches_jobs_and_evaluations_with_time_left(store_uri, tmp_path):
    import yaml

    from contactflow.paths import WORKFLOWS_DIR

    data = yaml.safe_load((WORKFLOWS_DIR / "screening" / "rgo_oc.yaml").read_text())
    data.update(name="progress", surrogate={"initial": 2, "pool": 8, "mc_samples": 16},
                sets=["adhesion.relax=false", "prepare.registry_grid=1", "prepare.gap_points=3"])
    space = tmp_path / "progress.yaml"
    space.write_text(yaml.safe_dump(data))
    rc, screen = in_terminal(["screen", str(space), "--budget", "2", "--batch", "2", "--plot",
                              str(tmp_path / "p.png")], env(store_uri))
    assert rc == 0, screen[-3000:]
    assert re.search(r"\d+\.\ds screen: batch 0 \(initial\): proposed progress-000 \(o_to_c=[\d.]+, groups=", screen)
    for design in ("progress-000", "progress-001"):  # each design: a run line and one line per job
        assert re.search(rf"run: {design}: adhesion, descriptors on \S+", screen)
        names = [n.split(":")[0] for n in re.findall(rf"job: {design}: \d/\d (\S+)", screen)]
        assert names[:2] == ["interface", "prepare"] and sorted(names[2:]) == ["adhesion", "descriptors"], names
    assert re.search(r"━.* 1/2 +elapsed", screen) and "left" in screen  # evaluations done of the budget
    assert "screen: batch 0 (initial): 2/2 evaluated" in screen and "Pareto set — progress" in screen
