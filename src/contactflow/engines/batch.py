"""Energies and forces of many structures at once, behind one interface for batched and sequential use.

NEB images (and MD replicas, site screens, registry relaxations) are independent single points. A universal
MLP can evaluate them as one batched graph; on a GPU that is several times faster, on a small CPU it is
faster or slower depending on the cell size (CHGNet's batch measured 0.66–0.75× for 16–65-atom relaxations
and NEB bands, 1.23× for 16-atom MD replicas, on 2 cores). So the batched path is chosen per device:
``mode="auto"`` uses the batch on CUDA and measures both paths on the real work on a CPU, keeping the
faster (see :class:`BatchChooser`).

Every engine that can skip work goes through its
:class:`~contactflow.engines.properties.PropertyCalculator` (energy and forces only); CHGNet (optionally
``+d3``) has a batched path, MACE committees are evaluated one structure at a time, and ReaxFF/CP2K
through their ordinary ASE calculators.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from contactflow.engines.calculators import get_calculator
from contactflow.errors import EngineSpecError

BATCH_MODES = ("auto", "batched", "sequential", "measure")
#: on a CPU, ``auto`` measures the batch only for structures up to this size; larger ones go one by one
#: without measuring (65-atom NEB bands: the batch measured 0.70–0.80× on 2 cores every time, so timing it
#: would only cost a slow call)
CPU_BATCH_MAX_ATOMS = 32


@dataclass
class EvalResult:
    """Energy (eV) and forces (eV/Å, unconstrained; ``None`` from an energy-only evaluator) of one structure."""

    energy_eV: float
    forces: np.ndarray | None


class ImageEvaluator:
    """Sequential evaluation through an ASE calculator; subclasses add a batched path.

    Parameters
    ----------
    calculator
        Any ASE calculator.
    """

    supports_batch = False

    def __init__(self, calculator=None):
        self.calculator = calculator

    def evaluate(self, images: list[Atoms], batched: bool = False) -> list[EvalResult]:
        """Energies and forces of ``images`` (constraints are not applied to the forces).

        Parameters
        ----------
        images
            Structures to evaluate; they are not modified.
        batched
            Use the batched path (ignored when the engine has none).
        """
        if batched and self.supports_batch:
            return self._evaluate_batch(images)
        return [self._evaluate_one(a) for a in images]

    def _evaluate_one(self, atoms: Atoms) -> EvalResult:
        work = atoms.copy()
        work.set_constraint()
        work.calc = self.calculator
        energy = float(work.get_potential_energy())
        forces = np.array(work.get_forces()) if "forces" in self.calculator.implemented_properties else None
        return EvalResult(energy, forces)

    def _evaluate_batch(self, images: list[Atoms]) -> list[EvalResult]:  # pragma: no cover
        raise NotImplementedError


class PropertyEvaluator(ImageEvaluator):
    """Energies and forces through a :class:`~contactflow.engines.properties.PropertyCalculator` (no
    stress, no magmoms), the same path as every other job's calculator.

    Sequential calls run one structure per forward pass; batched calls run all of them in one forward
    pass per part (CHGNet graphs, D3) where every part has a batched path.
    """

    def __init__(self, calculator):
        super().__init__(calculator)
        self.supports_batch = calculator.supports_batch

    def evaluate(self, images: list[Atoms], batched: bool = False) -> list[EvalResult]:
        res = self.calculator.evaluate(images, batched=batched and self.supports_batch)
        # forces keep the engine's dtype: the same numbers an ASE optimizer gets from the calculator
        return [EvalResult(float(r["energy"]), np.asarray(r["forces"]) if "forces" in r else None) for r in res]

    def _evaluate_one(self, atoms: Atoms) -> EvalResult:
        return self.evaluate([atoms])[0]


#: kept for callers of the CHGNet-only evaluator this replaced
CHGNetEvaluator = PropertyEvaluator


def get_evaluator(spec: str, device: str = "auto", properties=None) -> ImageEvaluator:
    """The image evaluator of an engine spec: energy and forces only, batched where the engine can.

    Parameters
    ----------
    spec
        Engine spec (see :func:`contactflow.engines.get_calculator`).
    device
        ``auto``, ``cpu`` or ``cuda``.
    properties
        ``None``: energy and forces; ``contactflow.engines.properties.ENERGY`` for screens that rank
        energies (results then carry no forces).
    """
    from contactflow.engines.properties import ENERGY_FORCES, PropertyCalculator

    calc = get_calculator(spec, device, properties or ENERGY_FORCES)
    if isinstance(calc, PropertyCalculator):
        return PropertyEvaluator(calc)
    return ImageEvaluator(calc)


@dataclass
class BatchChooser:
    """Decide once whether to evaluate images batched or one by one.

    ``batched``/``sequential`` are taken as given. ``auto`` decides by device: the batch on CUDA
    (several images fill the GPU); on a CPU it measures on the real work, because there the size decides:
    CHGNet's batched forward pass was measured slower for a 65-atom NEB band (0.75× on 2 cores,
    ``benchmarks/bench_neb.py``) and for 36 16-atom registry relaxations (0.66×), but faster for eight
    16-atom MD replicas (1.23×, ``benchmarks/bench_batch.py``). Structures above
    :data:`CPU_BATCH_MAX_ATOMS` go one by one; for smaller ones, after one untimed warm-up call, it times a
    sequential call, then a batched one, per structure, and keeps the faster; it costs at most one slow call
    and can be misled by a loaded machine. ``measure`` does the same without the warm-up call.

    Parameters
    ----------
    mode
        ``auto``, ``batched``, ``sequential`` or ``measure``.
    device
        Resolved device, ``cpu`` or ``cuda``.
    """

    mode: str = "auto"
    device: str = "cpu"
    decided: str | None = None
    timings_s: dict[str, float] = field(default_factory=dict)  # wall time per image of each path, s
    _warm: int = 0

    def __post_init__(self):
        if self.mode not in BATCH_MODES:
            raise EngineSpecError(f"unknown batch mode {self.mode!r}; valid: {', '.join(BATCH_MODES)}")
        if self.mode in ("batched", "sequential"):
            self.decided = self.mode

    def evaluate(self, evaluator: ImageEvaluator, images: list[Atoms]) -> list[EvalResult]:
        """Evaluate ``images`` with the chosen path (deciding on the first call)."""
        if not evaluator.supports_batch:
            self.decided = self.decided or "sequential"
            return evaluator.evaluate(images, batched=False)
        if self.decided is None and self.mode == "auto" and self.device == "cuda":
            self.decided = "batched"
        if self.decided is None and self.mode == "auto" and max(map(len, images), default=0) > CPU_BATCH_MAX_ATOMS:
            self.decided = "sequential"  # a CPU and cells too large for the batch to pay (measured)
        if self.decided is None:  # "measure", or "auto" on a CPU (after one warm-up call)
            if len(images) < 2 or (self.mode == "auto" and self._warm < 1):
                self._warm += len(images) >= 2  # a single structure teaches nothing about batching
                return evaluator.evaluate(images, batched=False)
            # measured on real work: a sequential call, then a batched one (both results are used), then
            # the faster per-image path is kept
            path = "sequential" if "sequential" not in self.timings_s else "batched"
            t0 = time.perf_counter()
            res = evaluator.evaluate(images, batched=path == "batched")
            self.timings_s[path] = (time.perf_counter() - t0) / len(images)
            if len(self.timings_s) == 2:
                self.decided = min(self.timings_s, key=self.timings_s.get)
            return res
        return evaluator.evaluate(images, batched=self.decided == "batched")
