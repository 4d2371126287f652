"""Energies (no forces) of many rigid configurations: separation curves and registry scans.

A separation curve or a registry grid is a set of independent single points that only need the
energy. The sequential baseline is one ASE calculator call per configuration, which for an MLP also
runs the backward pass for forces and stress. The paths here, chosen per device:

``batched``
    One forward pass per part for all configurations (CHGNet graphs, DFT-D3 ``batch_calculate``), energy
    only. Fast on a GPU; on a 2-core CPU CHGNet's batch measured 0.3–0.7× of one-by-one calls, so it is
    not the CPU default.
``energy-only``
    The engine's :class:`~contactflow.engines.properties.PropertyCalculator` asked for the energy alone,
    one configuration at a time (no backward pass: CHGNet task ``e``, MACE ``compute_force=False``, the
    D3 energy). The CPU default; it can only be faster than the baseline since it does a subset of the
    baseline's work.
``sequential``
    The engine's full ASE calculator, one configuration at a time (the only path for ReaxFF and CP2K,
    which compute everything they implement in one call).

``mode="auto"`` picks ``batched`` on CUDA for engines with a batched path, ``energy-only`` for engines
that can skip work but have no batch (MACE), and ``sequential`` for the others. For CHGNet on a CPU it
decides on the configurations themselves, wasting nothing: the first
:data:`PILOT` configurations run ``energy-only``, the next ``batch_size`` run ``batched``, and the rest
take whichever was faster per configuration. (Which one wins on a CPU depends on the cell size: for a
4-atom bilayer the batch amortises per-call overhead and wins several-fold, for 60+ atoms it lost.)
``benchmarks/bench_traction.py`` measures the choice against the sequential baseline.
"""

import time

from ase import Atoms

from contactflow.engines.calculators import get_calculator, parse_spec, resolve_device
from contactflow.errors import EngineSpecError

ENERGY_MODES = ("auto", "batched", "energy-only", "sequential")
#: configurations evaluated one by one before the batched pilot in CPU ``auto`` mode
PILOT = 2


class EnergyEvaluator:
    """Potential energies of many configurations with one engine.

    Parameters
    ----------
    spec
        Engine spec.
    device
        ``auto``, ``cpu`` or ``cuda``.
    mode
        One of :data:`ENERGY_MODES`.
    calculator
        An ASE calculator to reuse for the sequential path (default: built from ``spec``).
    batch_size
        Largest number of configurations per batched forward pass.

    Attributes
    ----------
    mode
        The path in use; in CPU ``auto`` mode ``"auto"`` until the pilot has decided.
    decision
        How ``auto`` decided (path and pilot timings per configuration), for the result document.
    """

    def __init__(self, spec: str, device: str = "auto", mode: str = "auto", calculator=None,
                 batch_size: int = 8):
        if mode not in ENERGY_MODES:
            raise EngineSpecError(f"unknown energy evaluation mode {mode!r}; valid: {', '.join(ENERGY_MODES)}")
        self.parsed = parse_spec(spec)
        from contactflow.engines.registry import backend

        be = backend(self.parsed.base)
        self.device = resolve_device(device) if be.gpu else "cpu"
        self._spec = spec
        self._calc = calculator
        self._energy_calc = None
        can_skip = be.part is not None
        can_batch = can_skip and self.energy_calculator.supports_batch
        if mode == "auto" and (self.device == "cuda" or not can_batch):
            mode = "batched" if can_batch else ("energy-only" if can_skip else "sequential")
        if mode == "batched" and not can_batch:
            mode = "energy-only"  # no batched path for this engine
        if mode == "energy-only" and not can_skip:
            mode = "sequential"  # the engine computes everything in one call anyway
        self.mode = mode
        self.decision = mode if mode != "auto" else None
        self.batch_size = max(1, int(batch_size))

    @property
    def calculator(self):
        """The engine's full ASE calculator (the sequential path; built on first use)."""
        if self._calc is None:
            self._calc = get_calculator(self._spec, self.device)
        return self._calc

    @property
    def energy_calculator(self):
        """The engine's energy-only :class:`~contactflow.engines.properties.PropertyCalculator`."""
        if self._energy_calc is None:
            from contactflow.engines.properties import ENERGY

            self._energy_calc = get_calculator(self._spec, self.device, ENERGY)
        return self._energy_calc

    def energies(self, images: list[Atoms], label: str | None = None) -> list[float]:
        """Potential energies (eV) of ``images``; constraints are ignored, images are not modified.

        With a ``label`` the configurations go in blocks and a progress line (done, elapsed, time left)
        is logged as they complete."""
        if not images:
            return []
        if label is not None and len(images) > 1:
            from contactflow.engines.cost import ProgressMeter

            meter = ProgressMeter(f"{label} ({len(images[0])} atoms)", len(images), "points")
            block, out = PILOT + self.batch_size, []
            for i in range(0, len(images), block):
                out += self.energies(images[i : i + block])
                meter.update(len(out))
            return out
        if self.mode == "sequential":
            out = []
            for a in images:
                w = a.copy()
                w.set_constraint()
                w.calc = self.calculator
                out.append(float(w.get_potential_energy()))
            return out
        if self.mode == "auto":
            return self._auto(images)
        return self._chunked(images, batched=self.mode == "batched")

    def _chunked(self, images: list[Atoms], batched: bool) -> list[float]:
        if not images:  # the pilot may already have evaluated every configuration
            return []
        if not batched:
            return self._energies(images, batched=False)
        out: list[float] = []
        for i in range(0, len(images), self.batch_size):
            out += self._energies(images[i : i + self.batch_size], batched=True)
        return out

    def _auto(self, images: list[Atoms]) -> list[float]:
        """CPU: pilot both paths on disjoint configurations, keep the faster for the rest."""
        n_batch = min(self.batch_size, len(images) - PILOT)
        if n_batch < 2:  # too few configurations to learn anything: the always-safe path
            return self._energies(images, batched=False)
        t0 = time.perf_counter()
        out = self._energies(images[:PILOT], batched=False)
        t1 = time.perf_counter()
        out += self._energies(images[PILOT : PILOT + n_batch], batched=True)
        t2 = time.perf_counter()
        per_seq, per_batch = (t1 - t0) / PILOT, (t2 - t1) / n_batch
        self.mode = "batched" if per_batch < per_seq else "energy-only"
        self.decision = (f"auto:{self.mode} (pilot s/config: energy-only {per_seq:.3g}, "
                         f"batched {per_batch:.3g})")
        return out + self._chunked(images[PILOT + n_batch :], batched=self.mode == "batched")

    def _energies(self, images: list[Atoms], batched: bool) -> list[float]:
        return [float(r["energy"]) for r in self.energy_calculator.evaluate(images, batched=batched)]
