"""Compute only the properties a job asks for: one ASE calculator for every job, every skip-capable engine.

A full ``CHGNetCalculator`` computes energy, forces, stress and magnetic moments on every call (task
``efsm``); CHGNet's stress is a second ``autograd.grad`` pass with ``create_graph=True``, so a fixed-cell
relaxation or an NVT run that never reads the stress pays for it on every step (measured 73 ms for
``ef`` vs 138 ms for ``efsm`` on a 65-atom cell, 1 thread). A :class:`PropertyCalculator` is built for
one job with the properties that job uses:

- :data:`ENERGY` — single points, scans (registry, gap, traction openings);
- :data:`ENERGY_FORCES` — fixed-cell relaxations, NVT/NVE MD, NEB images;
- :data:`ENERGY_FORCES_STRESS` — variable-cell work (NPT MD, cell relaxations);
- ``+ "magmoms"`` — only when a job stores them.

Its ``implemented_properties`` are exactly those, so ASE (and atomate2's observers, which ask for a
stress whenever a calculator implements one) never trigger a stress calculation the job did not ask
for; asking for one raises ASE's ``PropertyNotImplementedError``. Every call computes the whole set at
once (an ASE ``get_forces`` after ``get_potential_energy`` on the same atoms is a cache hit).

The calculator is a sum of *parts* (the model, then ``+d3`` dispersion or a D3 baseline), each computing
the requested set and nothing else:

- :class:`CHGNetPart` — ``model.forward(task="e" | "ef" | "efs" | "efsm")`` on an inference-only copy of
  the parameters (no parameter gradients are recorded); values are bitwise those of ``CHGNetCalculator``;
- :class:`MACEPart` — each committee member called with ``compute_stress=False`` (and
  ``compute_force=False`` for energies); a committee keeps ``energy_comm``/``forces_comm`` in ``results``;
- :class:`D3Part` — DFT-D3(BJ) energy alone, or energy and forces without the cell gradient.

Every part can also evaluate a list of structures; :class:`CHGNetPart` and :class:`D3Part` do it as one
batched forward pass (the batched path of NEB images, MD replicas and scans, chosen per device in
:mod:`contactflow.engines.batch`).

What was computed is counted (:meth:`PropertyCalculator.record`: ``computed_properties``,
``n_evaluations``, ``evaluation_time_s``) and goes into the result document's provenance.
"""

import time
from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from contactflow.errors import EngineSpecError

#: the properties any part can be asked for (ASE names)
PROPERTIES = ("energy", "forces", "stress", "magmoms")
ENERGY = ("energy",)
ENERGY_FORCES = ("energy", "forces")
ENERGY_FORCES_STRESS = ("energy", "forces", "stress")


def job_properties(*, forces: bool = True, stress: bool = False, magmoms: bool = False) -> tuple[str, ...]:
    """The property set of a job: energy, plus forces, stress (variable cell) and magmoms (stored)."""
    out = ["energy"]
    if forces or stress:
        out.append("forces")
    if stress:
        out.append("stress")
    if magmoms:
        out.append("magmoms")
    return tuple(out)


def checked_properties(properties: Sequence[str]) -> tuple[str, ...]:
    """``properties`` in canonical order; energy is always included.

    Raises
    ------
    EngineSpecError
        For a property no engine part computes.
    """
    unknown = sorted(set(properties) - set(PROPERTIES))
    if unknown:
        raise EngineSpecError(f"unknown properties {unknown}; valid: {', '.join(PROPERTIES)}")
    wanted = set(properties) | {"energy"}
    return tuple(p for p in PROPERTIES if p in wanted)


def _plain(atoms: Atoms) -> Atoms:
    a = atoms.copy()
    a.set_constraint()
    return a


class CHGNetPart:
    """CHGNet energies, forces, stress, magmoms: only the requested ones, one or many structures per call.

    Parameters
    ----------
    model
        A loaded ``chgnet.model.CHGNet`` (put in eval mode with its parameters frozen: inference only).
    """

    name = "chgnet"
    batched = True
    _TASK = {"energy": "e", "forces": "f", "stress": "s", "magmoms": "m"}

    def __init__(self, model):
        self.model = model
        model.eval()
        for p in model.parameters():  # inference: no parameter gradients (values are unchanged)
            p.requires_grad_(False)

    def compute(self, images: list[Atoms], properties: Sequence[str], batched: bool = False) -> list[dict]:
        """Results dicts (ASE names and units) for ``images``; one forward pass for all when ``batched``."""
        from pymatgen.io.ase import AseAtomsAdaptor

        from ase.units import GPa

        task = "".join(self._TASK[p] for p in PROPERTIES if p in properties)
        structures = [AseAtomsAdaptor.get_structure(_plain(a)) for a in images]
        graphs = [self.model.graph_converter(s) for s in structures]
        import contextlib

        import torch

        device = next(self.model.parameters()).device
        # energies alone need no autograd graph (the same forward arithmetic, nothing recorded)
        grad = contextlib.nullcontext() if ("f" in task or "s" in task) else torch.no_grad()
        with grad:
            if batched:
                preds = self._split(self.model.forward([g.to(device) for g in graphs], task=task), len(graphs))
            else:
                preds = [self._split(self.model.forward([g.to(device)], task=task), 1)[0] for g in graphs]
        out = []
        for s, p in zip(structures, preds):
            factor = len(s) if self.model.is_intensive else 1
            # the same arithmetic (and dtypes) as CHGNetCalculator: results agree bitwise
            r = {"energy": p["e"] * factor}
            if "f" in p:
                r["forces"] = p["f"]
            if "s" in p:
                r["stress"] = p["s"] * GPa
            if "m" in p:
                r["magmoms"] = p["m"]
            out.append(r)
        return out

    @staticmethod
    def _split(prediction: dict, n: int) -> list[dict]:
        res: list[dict] = [{} for _ in range(n)]
        for key in ("e", "f", "s", "m"):
            if key in prediction:
                for i, t in enumerate(prediction[key]):
                    res[i][key] = t.cpu().detach().numpy()
        return res


class MACEPart:
    """A MACE model or committee: energy (``compute_force=False``) or energy and forces
    (``compute_stress=False``); with stress, the full ``MACECalculator`` call.

    Parameters
    ----------
    calculator
        The ``mace.calculators.MACECalculator`` of the model or committee (its batching, dtype and units).
    """

    name = "mace"
    batched = False

    def __init__(self, calculator):
        self.calc = calculator

    def compute(self, images: list[Atoms], properties: Sequence[str], batched: bool = False) -> list[dict]:
        return [self._one(a, properties) for a in images]

    def _one(self, atoms: Atoms, properties: Sequence[str]) -> dict:
        import torch

        c = self.calc
        work = _plain(atoms)
        if "stress" in properties:
            c.calculate(work)
            return {k: v for k, v in c.results.items()}
        forces = "forces" in properties
        base = c._atoms_to_batch(work)
        energies, force_list = [], []
        for model in c.models:
            batch = c._clone_batch(base)
            dtype = next(model.parameters()).dtype
            for key in batch.keys:
                value = batch[key]
                if torch.is_tensor(value) and torch.is_floating_point(value):
                    batch[key] = value.to(dtype=dtype)
            out = model(batch.to_dict(), compute_force=forces, compute_stress=False, training=False)
            energies.append(out["energy"].detach())
            if forces:
                force_list.append(out["forces"].detach())
        e_conv = c.energy_units_to_eV
        f_conv = c.energy_units_to_eV / c.length_units_to_A
        e_all = torch.stack(energies)  # members × 1
        res = {"energy": torch.mean(e_all, dim=0).cpu().item() * e_conv}
        if forces:
            f_all = torch.stack(force_list)
            res["forces"] = torch.mean(f_all, dim=0).cpu().numpy() * f_conv
        if len(c.models) > 1:  # a committee: per-member values, as MACECalculator keeps them
            res["energy_comm"] = e_all.cpu().numpy().reshape(-1) * e_conv
            res["energy_var"] = torch.var(e_all, dim=0, unbiased=False).cpu().item() * e_conv ** 2
            if forces:
                res["forces_comm"] = f_all.cpu().numpy() * f_conv
        return res


class D3Part:
    """DFT-D3(BJ) from ``torch-dftd``: energy alone, or energy and forces without the cell gradient
    (``TorchDFTD3Calculator`` differentiates with respect to the cell whenever forces are asked for).

    Parameters
    ----------
    calculator
        A ``TorchDFTD3Calculator`` (damping, functional, cutoffs).
    """

    name = "d3"
    batched = True

    def __init__(self, calculator):
        self.calc = calculator

    def compute(self, images: list[Atoms], properties: Sequence[str], batched: bool = False) -> list[dict]:
        plain = [_plain(a) for a in images]
        if batched and len(plain) > 1:
            res = self.calc.batch_calculate(plain, properties=list(properties))
            return [{k: r[k] for k in ("energy", "forces", "stress") if k in properties} for r in res]
        return [self._one(a, properties) for a in plain]

    def _one(self, atoms: Atoms, properties: Sequence[str]) -> dict:
        c = self.calc
        if "stress" in properties:
            c.calculate(atoms, list(properties))
            return {k: c.results[k] for k in ("energy", "forces", "stress")}
        d = c._preprocess_atoms(atoms)
        if "forces" not in properties:
            return {"energy": float(c.dftd_module.calc_energy(**d, damping=c.damping)[0]["energy"])}
        pos = d["pos"]
        pos.requires_grad_(True)
        e = c.dftd_module.calc_energy_batch(d["Z"], pos, d["edge_index"], d["cell"], d["pbc"], d["shift_pos"],
                                            None, None, damping=c.damping)
        e.sum().backward()
        return {"energy": e.item(), "forces": (-pos.grad).cpu().numpy()}


def _summable(key: str, value) -> np.ndarray:
    """A part's value as float64; stresses in Voigt form (CHGNet gives 3×3, D3 gives 6)."""
    from ase.stress import full_3x3_to_voigt_6_stress

    v = np.asarray(value, dtype=float)
    return full_3x3_to_voigt_6_stress(v) if key == "stress" and v.shape == (3, 3) else v


class PropertyCalculator(Calculator):
    """An ASE calculator that computes the job's properties and nothing else, and counts what it did.

    Parameters
    ----------
    parts
        Model parts whose results add up (e.g. ``[CHGNetPart, D3Part]`` for ``chgnet+d3``).
    properties
        The job's property set (see :func:`job_properties`); energy is always included.
    spec
        The canonical engine spec (for messages and records).

    Attributes
    ----------
    n_evaluations
        Structures evaluated so far (a batch of 8 counts 8).
    evaluation_time_s
        Wall time spent inside the parts, s.
    computed
        The properties actually computed so far.
    """

    def __init__(self, parts: list, properties: Sequence[str] = ENERGY_FORCES, spec: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.parts = list(parts)
        self.properties = checked_properties(properties)
        self.implemented_properties = [*self.properties, "free_energy"]
        self.spec = spec
        self.n_evaluations = 0
        self.evaluation_time_s = 0.0
        self.computed: set[str] = set()

    @property
    def supports_batch(self) -> bool:
        """Whether every part evaluates many structures in one forward pass."""
        return all(p.batched for p in self.parts)

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = self.evaluate([self.atoms])[0]

    def evaluate(self, images: list[Atoms], batched: bool = False) -> list[dict]:
        """The job's properties of ``images`` (constraints ignored, images not modified).

        Parameters
        ----------
        images
            Structures to evaluate.
        batched
            One forward pass per part for all of them (ignored by parts without a batched path).
        """
        if not images:
            return []
        t0 = time.perf_counter()
        total: list[dict] | None = None
        for part in self.parts:
            res = part.compute(images, self.properties, batched=batched and part.batched)
            if total is None:
                total = res
                continue
            for t, r in zip(total, res):  # a sum of parts in float64 (a float32 model + D3)
                t["energy"] = float(t["energy"]) + float(r["energy"])
                for k in self.properties[1:]:
                    if k in r:  # magnetic moments come from the model alone
                        t[k] = _summable(k, t[k]) + _summable(k, r[k])
        for r in total:
            r["free_energy"] = r["energy"]
        self.evaluation_time_s += time.perf_counter() - t0
        self.n_evaluations += len(images)
        self.computed.update(self.properties)
        return total

    def record(self) -> dict:
        """What this calculator computed: ``computed_properties``, ``n_evaluations``, ``evaluation_time_s``."""
        return {"computed_properties": [p for p in PROPERTIES if p in self.computed],
                "n_evaluations": self.n_evaluations, "evaluation_time_s": self.evaluation_time_s}


def evaluation_record(*calculators) -> dict:
    """Merge the records of the calculators a job used (``None`` entries ignored).

    A :class:`PropertyCalculator` reports its counts; any other ASE calculator (ReaxFF, CP2K: engines
    that compute everything they implement) reports the properties present in its last results.
    """
    computed: set[str] = set()
    n, t, counted = 0, 0.0, False
    for c in calculators:
        if c is None:
            continue
        if isinstance(c, PropertyCalculator):
            r = c.record()
            computed.update(r["computed_properties"])
            n += r["n_evaluations"]
            t += r["evaluation_time_s"]
            counted = True
        else:
            computed.update(k for k in (getattr(c, "results", None) or {}) if k in PROPERTIES)
    return {"computed_properties": [p for p in PROPERTIES if p in computed],
            "n_evaluations": n if counted else None, "evaluation_time_s": t if counted else None}


def as_float_results(results: dict) -> tuple[float, np.ndarray | None]:
    """(energy eV, forces eV/Å as float64 or ``None``) of a results dict."""
    f = results.get("forces")
    return float(results["energy"]), (None if f is None else np.asarray(f, dtype=float))
