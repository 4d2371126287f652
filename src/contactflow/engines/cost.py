"""What a job will cost before it starts, and how far it is while it runs.

Before a long job (MD, pull-off, NEB, preparation) starts, its cost is estimated as
``evaluations × measured time per evaluation`` — the time is measured on this device, for this engine,
on the job's own structure (one warm-up call, then timed calls; cached per engine, device, atom count and
property set for the life of the process) — logged, and stored in the result's provenance
(``estimated_wall_time_s`` next to the measured ``wall_time_s``). A job whose estimate exceeds the budget
(``CONTACTFLOW_JOB_BUDGET_S``, default :data:`DEFAULT_BUDGET_S`) says so and how to shrink it.

:class:`ProgressMeter` logs progress lines with the elapsed time and the time left (MD steps,
relaxation and NEB steps, scan points). The CLI shows contactflow's log lines on stderr.
"""

import logging
import os
import time
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

BUDGET_ENV = "CONTACTFLOW_JOB_BUDGET_S"
#: default budget of one job on the current device, s (one hour)
DEFAULT_BUDGET_S = 3600.0
_PER_EVALUATION_S: dict[tuple, float] = {}


def fmt_duration(seconds: float | None) -> str:
    """``4 h 03 min``, ``12 min 05 s``, ``42 s``, ``0.3 s``."""
    if seconds is None or not np.isfinite(seconds):
        return "unknown"
    s = max(0.0, float(seconds))
    if s < 10:
        return f"{s:.1f} s"
    if s < 60:
        return f"{s:.0f} s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def job_budget_s() -> float:
    """The budget of one job on this device, s: ``$CONTACTFLOW_JOB_BUDGET_S`` or :data:`DEFAULT_BUDGET_S`."""
    raw = os.environ.get(BUDGET_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_BUDGET_S
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        log.warning("ignoring %s=%r (not a positive number of seconds); budget %s", BUDGET_ENV, raw,
                    fmt_duration(DEFAULT_BUDGET_S))
        return DEFAULT_BUDGET_S
    return value


def time_per_evaluation_s(calc, atoms, key: tuple | None = None, repeats: int = 2) -> float:
    """Wall time of one evaluation of ``atoms`` by ``calc`` on this device, s (measured, then cached).

    One untimed warm-up call (model load, first-call allocations), then the median of ``repeats``
    timed calls, each on the structure moved by 1e-4 Å so that no call is a cache hit.

    Parameters
    ----------
    calc
        The job's ASE calculator (what the job will call: its property set is what is timed).
    atoms
        The job's structure.
    key
        Cache key (e.g. engine spec, device, properties); the atom count is added. ``None``: not cached.
    repeats
        Timed calls.
    """
    full_key = None if key is None else (*key, len(atoms))
    if full_key is not None and full_key in _PER_EVALUATION_S:
        return _PER_EVALUATION_S[full_key]
    saved = {a: (set(v) if isinstance(v := getattr(calc, a), set) else v)
             for a in ("n_evaluations", "evaluation_time_s", "computed") if hasattr(calc, a)}
    work = atoms.copy()
    work.set_constraint()
    props = [p for p in ("energy", "forces") if p in getattr(calc, "implemented_properties", ("energy",))]
    times = []
    for i in range(repeats + 1):
        work.positions[0, 0] += 1e-4
        t0 = time.perf_counter()
        calc.calculate(work, props, ["positions"])
        if i:
            times.append(time.perf_counter() - t0)
    for attr, value in saved.items():  # the calls made here are not the job's: its record stays its own
        setattr(calc, attr, value)
    calc.reset()
    value = float(np.median(times))
    if full_key is not None:
        _PER_EVALUATION_S[full_key] = value
    return value


@dataclass
class CostEstimate:
    """The cost of one job: ``n_evaluations × time_per_evaluation_s + overhead_s``.

    Parameters
    ----------
    what
        The job (``"pull_off Fe24O32C60"``).
    engine, device
        Engine spec and device the figure was measured for.
    n_atoms
        Atoms per evaluation.
    n_evaluations
        Evaluations the job will make at most (MD steps, optimizer steps × images, scan points).
    time_per_evaluation_s
        Measured on this device, s.
    overhead_s
        Other known costs (setup, single points), s.
    budget_s
        The budget it is compared with, s.
    parts
        ``{stage: evaluations}`` for the message.
    """

    what: str
    engine: str
    device: str
    n_atoms: int
    n_evaluations: int
    time_per_evaluation_s: float
    overhead_s: float = 0.0
    budget_s: float = field(default_factory=job_budget_s)
    parts: dict = field(default_factory=dict)

    @property
    def estimated_wall_time_s(self) -> float:
        return self.n_evaluations * self.time_per_evaluation_s + self.overhead_s

    @property
    def over_budget(self) -> bool:
        return self.estimated_wall_time_s > self.budget_s

    def summary(self) -> str:
        """One line: the estimate and what it is made of."""
        parts = ", ".join(f"{k} {v}" for k, v in self.parts.items())
        return (f"{self.what}: estimated {fmt_duration(self.estimated_wall_time_s)} on {self.device} "
                f"({self.n_atoms} atoms × {self.n_evaluations} evaluations{f' [{parts}]' if parts else ''} × "
                f"{self.time_per_evaluation_s:.3g} s per evaluation with {self.engine}, measured here)")

    def advice(self) -> str:
        """How to bring the job under the budget."""
        factor = self.estimated_wall_time_s / self.budget_s
        return (f"the estimate {fmt_duration(self.estimated_wall_time_s)} exceeds the budget "
                f"{fmt_duration(self.budget_s)} ({BUDGET_ENV}) by {factor:.1f}×; to shrink it: fewer steps "
                f"(about {max(1, int(self.n_evaluations / factor))} evaluations fit), a smaller cell "
                f"({self.n_atoms} atoms now; the cost grows about linearly with atoms), or a faster engine "
                f"or device (a GPU for an MLP, ReaxFF for long reactive MD)")

    def announce(self, logger: logging.Logger | None = None) -> None:
        """Log the estimate (and a warning with :meth:`advice` when over the budget)."""
        lg = logger or log
        lg.info("%s", self.summary())
        if self.over_budget:
            lg.warning("%s: %s", self.what, self.advice())

    def as_fields(self) -> dict:
        """Provenance fields: ``estimated_wall_time_s``, ``job_budget_s``, ``time_per_evaluation_s``."""
        return {"estimated_wall_time_s": self.estimated_wall_time_s, "job_budget_s": self.budget_s,
                "time_per_evaluation_s": self.time_per_evaluation_s}


class ProgressMeter:
    """Progress lines with elapsed time and time left, about every tenth of the work (and at the end).

    Parameters
    ----------
    label
        What is running (``"relax Si64Li"``).
    total
        Units of work (steps, points); for an optimizer the step budget, so the time left is an upper
        bound and is shown as such.
    unit
        Name of a unit of work.
    upper_bound
        ``total`` is a maximum (optimizers stop when converged).
    logger
        Where the lines go.
    """

    def __init__(self, label: str, total: int, unit: str = "steps", upper_bound: bool = False,
                 logger: logging.Logger | None = None, start: int = 0):
        self.label, self.total, self.unit, self.upper = label, max(1, int(total)), unit, upper_bound
        self.log = logger or log
        self.start = int(start)
        self.t0 = time.perf_counter()
        self._every = max(1, self.total // 10)
        self._next = self.start + self._every
        self.lines = 0

    def time_left_s(self, done: int) -> float | None:
        """Seconds left at the rate measured so far (``None`` before any work)."""
        did = done - self.start
        if did <= 0:
            return None
        rate = (time.perf_counter() - self.t0) / did
        return max(0, self.total - done) * rate

    def due(self, done: int) -> bool:
        """Whether :meth:`update` would log a line for ``done`` (so callers compute their extras only then)."""
        return done >= self._next or done >= self.total

    def update(self, done: int, extra: str = "", force: bool = False) -> None:
        """Report ``done`` units (logs when a tenth has passed, at the end, or when ``force``)."""
        if not (force or self.due(done)):
            return
        while self._next <= done:
            self._next += self._every
        elapsed = time.perf_counter() - self.t0
        left = self.time_left_s(done)
        left_txt = fmt_duration(left) if left is not None else "unknown"
        if self.upper and done < self.total:
            left_txt = f"≤ {left_txt}"
        self.lines += 1
        self.log.info("%s: %d/%d %s (%.0f%%)%s, %s elapsed, %s left", self.label, done, self.total, self.unit,
                      100.0 * done / self.total, f" {extra}" if extra else "", fmt_duration(elapsed), left_txt)


class Stages:
    """Stage lines of a job made of several runs (relaxation, equilibration, pull …): which stage starts,
    the time so far and the estimated time left in the whole job; at the end, estimate against measured.

    Parameters
    ----------
    estimate
        The job's :class:`CostEstimate`; its ``parts`` name the stages and their evaluations.
    logger
        Where the lines go.
    """

    def __init__(self, estimate: CostEstimate, logger: logging.Logger | None = None):
        self.est, self.log = estimate, logger or log
        self.t0 = time.perf_counter()
        self.started: list[str] = []

    def begin(self, name: str) -> None:
        """Stage ``name`` starts: log it with the estimated time left in the job (this stage and later)."""
        self.started.append(name)
        done = set(self.started[:-1])
        left = sum(v for k, v in self.est.parts.items() if k not in done) * self.est.time_per_evaluation_s
        self.log.info("%s: stage %s starts (%d evaluations); %s elapsed, about %s left in the job", self.est.what,
                      name, self.est.parts.get(name, 0), fmt_duration(time.perf_counter() - self.t0),
                      fmt_duration(left))

    def end(self, wall_time_s: float | None = None) -> None:
        """Log the measured wall time next to the estimate."""
        wall = time.perf_counter() - self.t0 if wall_time_s is None else wall_time_s
        self.log.info("%s: finished in %s (estimated %s before it started; measured/estimated %.2f)",
                      self.est.what, fmt_duration(wall), fmt_duration(self.est.estimated_wall_time_s),
                      wall / self.est.estimated_wall_time_s if self.est.estimated_wall_time_s else float("nan"))
