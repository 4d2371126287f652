"""Cost estimates (measured time per evaluation × evaluations), budget warnings and progress lines."""

import logging

import pytest
from ase.build import bulk

from contactflow.engines import get_calculator
from contactflow.engines.cost import (
    BUDGET_ENV, DEFAULT_BUDGET_S, CostEstimate, ProgressMeter, Stages, fmt_duration, job_budget_s,
    time_per_evaluation_s,
)
from contactflow.engines.properties import ENERGY_FORCES


def test_durations_read_like_a_person_writes_them():
    assert fmt_duration(0.3) == "0.3 s"
    assert fmt_duration(42) == "42 s"
    assert fmt_duration(725) == "12 min 05 s"
    assert fmt_duration(4 * 3600 + 180) == "4 h 03 min"
    assert fmt_duration(None) == "unknown"


def test_budget_comes_from_the_environment(monkeypatch, caplog):
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    assert job_budget_s() == DEFAULT_BUDGET_S
    monkeypatch.setenv(BUDGET_ENV, "120")
    assert job_budget_s() == 120.0
    monkeypatch.setenv(BUDGET_ENV, "-3")
    with caplog.at_level(logging.WARNING):
        assert job_budget_s() == DEFAULT_BUDGET_S
    assert "ignoring" in caplog.text


def test_an_estimate_over_budget_says_how_to_shrink_it(monkeypatch, caplog):
    monkeypatch.setenv(BUDGET_ENV, "100")
    est = CostEstimate("pull_off Fe24O32C60", "chgnet", "cpu", 188, 4000, 0.5, parts={"pull": 4000})
    assert est.estimated_wall_time_s == pytest.approx(2000.0)
    assert est.over_budget
    with caplog.at_level(logging.INFO):
        est.announce()
    assert "estimated 33 min 20 s on cpu" in caplog.text and "188 atoms × 4000 evaluations" in caplog.text
    warning = [r for r in caplog.records if r.levelno == logging.WARNING][0].getMessage()
    # 20× over: about 200 evaluations fit; every way to shrink the job is named
    assert "20.0×" in warning and "about 200 evaluations fit" in warning
    assert "fewer steps" in warning and "smaller cell" in warning and "faster engine" in warning
    fields = est.as_fields()
    assert fields["estimated_wall_time_s"] == pytest.approx(2000.0) and fields["job_budget_s"] == 100.0
    caplog.clear()
    with caplog.at_level(logging.INFO):
        CostEstimate("md Si2", "chgnet", "cpu", 2, 10, 0.01, budget_s=100.0).announce()
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.slow
def test_time_per_evaluation_is_measured_without_counting_as_the_jobs_work():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    calc = get_calculator("chgnet", "cpu", ENERGY_FORCES)
    t = time_per_evaluation_s(calc, atoms, key=("chgnet", "cpu", ENERGY_FORCES, "test"))
    assert 0 < t < 60
    assert calc.n_evaluations == 0 and calc.computed == set()  # the job's record starts empty
    # cached for the process: the same key does not measure again
    assert time_per_evaluation_s(calc, atoms, key=("chgnet", "cpu", ENERGY_FORCES, "test")) == t
    # the calculator still evaluates the job's structure afterwards (no stale cache from the timing calls)
    atoms.calc = calc
    e = atoms.get_potential_energy()
    atoms.calc = get_calculator("chgnet", "cpu", ENERGY_FORCES)
    assert atoms.get_potential_energy() == pytest.approx(e, abs=1e-6)


def test_progress_lines_report_about_every_tenth_with_time_left(caplog):
    log = logging.getLogger("contactflow.test.progress")
    meter = ProgressMeter("md Cu32", 100, "steps", logger=log)
    with caplog.at_level(logging.INFO, logger="contactflow.test.progress"):
        for step in range(1, 101):
            meter.update(step, "T=300 K")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 10
    assert lines[0].startswith("md Cu32: 10/100 steps (10%) T=300 K") and "left" in lines[0]
    assert lines[-1].startswith("md Cu32: 100/100 steps (100%)") and lines[-1].endswith("0.0 s left")
    caplog.clear()
    bound = ProgressMeter("relax", 50, upper_bound=True, logger=log)
    with caplog.at_level(logging.INFO, logger="contactflow.test.progress"):
        bound.update(5)
    assert "≤ " in caplog.records[0].getMessage()  # an optimizer may stop early: the time left is a bound


def test_stages_give_the_time_left_in_the_whole_job(caplog):
    log = logging.getLogger("contactflow.test.stages")
    est = CostEstimate("pull_off X", "chgnet", "cpu", 10, 300, 1.0, budget_s=1e6,
                       parts={"relaxation": 100, "equilibration": 100, "pull": 100})
    st = Stages(est, log)
    with caplog.at_level(logging.INFO, logger="contactflow.test.stages"):
        st.begin("relaxation")
        st.begin("pull")
        st.end(150.0)
    msgs = [r.getMessage() for r in caplog.records]
    assert "about 5 min 00 s left in the job" in msgs[0]
    assert "about 3 min 20 s left" in msgs[1]  # relaxation done: equilibration and pull remain
    assert "measured/estimated 0.50" in msgs[2]
