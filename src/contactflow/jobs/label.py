"""DFT labelling of sampled configurations: ``DFTLabelMaker`` → ``LabelledConfigDoc`` per configuration."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from jobflow import Maker
from pymatgen.io.ase import AseAtomsAdaptor

from contactflow.jobs.base import contactflow_job, doc_key_for, make_provenance, persist, timed
from contactflow.mlp.data import dedupe, fingerprint
from contactflow.schemas.training import LabelledConfigDoc
from contactflow.errors import TrainingInputError

log = logging.getLogger(__name__)


def to_configs(atoms_list: list[Atoms]) -> list[dict]:
    """Serialisable configurations (structure dict + source + system) for :meth:`DFTLabelMaker.make`."""
    return [{"structure": AseAtomsAdaptor.get_structure(a).as_dict(), "source": a.info.get("source", "given"),
             "system": a.info.get("system") or a.get_chemical_formula()} for a in atoms_list]


def from_configs(configs: list) -> list[Atoms]:
    """ASE Atoms (with ``info`` source/system) from :func:`to_configs` output or plain Atoms/Structures."""
    from pymatgen.core import Structure

    out = []
    for c in configs:
        if isinstance(c, Atoms):
            out.append(c)
            continue
        s = c["structure"]
        a = AseAtomsAdaptor.get_atoms(s if isinstance(s, Structure) else Structure.from_dict(s))
        a.info.update(source=c.get("source", "given"), system=c.get("system") or a.get_chemical_formula())
        out.append(a)
    return out


def exact_key(dataset: str, engine: str, atoms: Atoms) -> str:
    """Document key of one configuration: dataset, engine, numbers, cell and positions (rounded to 1e-4 Å)."""
    return doc_key_for("lc", {
        "dataset": dataset, "engine": engine, "numbers": atoms.numbers.tolist(),
        "cell": np.round(np.array(atoms.cell), 4).tolist(), "pos": np.round(atoms.positions, 4).tolist(),
    })


@dataclass
class DFTLabelMaker(Maker):
    """Label configurations with DFT (CP2K PBE + D3(BJ) by default): energy, forces and optionally stress.

    The DFT settings live in one place, :data:`contactflow.engines.cp2k.PRESETS` (``cp2k:pbe-d3`` is the
    loose preset for ≤ ~48-atom cells on 2 cores; ``cp2k:pbe-d3-tight`` on HPC via the queue). A run that
    fails or whose SCF does not converge is stored as failed with its reason and is never trained on.

    Parameters
    ----------
    name
        Job name.
    engine
        DFT engine spec (``cp2k`` or ``cp2k:<preset>``).
    dataset
        Data set the configurations are added to.
    split
        ``train`` or ``test`` (held out from every training).
    compute_stress
        Also compute the stress tensor (costs ~1.3× per configuration).
    deduplicate
        Skip configurations whose fingerprint matches one already in the data set (same formula).
    dedup_tol
        Fingerprint distance below which two configurations are one.
    store_result
        Upsert each document into the contactflow store as soon as it is computed.
    calculator_kwargs
        Extra keyword arguments of the CP2K calculator (``overrides`` of the preset's settings).
    """

    name: str = "dft_label"
    engine: str = "cp2k:pbe-d3"
    dataset: str = "default"
    split: str = "train"
    compute_stress: bool = False
    deduplicate: bool = True
    dedup_tol: float = 2.0e-3
    store_result: bool = True
    calculator_kwargs: dict = field(default_factory=dict)

    def check(self) -> None:
        """Raise ``ValueError`` for settings no labelling can run with."""
        from contactflow.engines import parse_spec

        if parse_spec(self.engine).base != "cp2k":
            raise TrainingInputError(f"DFTLabelMaker needs a DFT engine spec ('cp2k' or 'cp2k:<preset>'), got {self.engine!r}")
        if self.split not in ("train", "test"):
            raise TrainingInputError(f"split must be 'train' or 'test', got {self.split!r}")
        if not self.dataset or not self.dataset.replace("_", "").replace("-", "").isalnum():
            raise TrainingInputError(f"dataset name must be letters, digits, '-' or '_', got {self.dataset!r}")

    @contactflow_job
    def make(self, configs: list[dict]) -> list[LabelledConfigDoc]:
        """Label ``configs`` (from :func:`to_configs`) and return their documents."""
        return self.compute(from_configs(configs))

    def compute(self, configs: list[Atoms], existing: list[tuple[str, list[float]]] | None = None,
                progress: Callable[[int, int, LabelledConfigDoc], None] | None = None) -> list[LabelledConfigDoc]:
        """The labelling behind :meth:`make`, callable outside jobflow.

        Parameters
        ----------
        configs
            Configurations with ``info["source"]`` and ``info["system"]``.
        existing
            (formula, fingerprint) of configurations already in the data set; default: read from the store.
        progress
            Called after each configuration with (done, total, document).
        """
        from contactflow.engines import engine_info
        from contactflow.engines.checks import CalculationFailedError
        from contactflow.engines.cp2k import ContactflowCP2K, is_hexagonal, kpoint_grid, spin_setup

        self.check()
        info = engine_info(self.engine)
        if existing is None:
            existing = self._existing() if self.store_result else []
        keep = dedupe(configs, existing, self.dedup_tol) if self.deduplicate else list(range(len(configs)))
        if len(keep) < len(configs):
            log.info("labelling %d of %d configurations (%d duplicates skipped)", len(keep), len(configs),
                     len(configs) - len(keep))
        # the engine's own calculator class, with the stress switch and any preset overrides
        calc = ContactflowCP2K(info.spec.partition(":")[2] or None, stress_tensor=self.compute_stress,
                               **self.calculator_kwargs)
        docs = []
        try:
            for n, k in enumerate(keep):
                at = configs[k].copy()
                at.set_constraint()
                at.calc = calc
                settings = dict(calc.settings, kpoint_grid=list(kpoint_grid(np.array(at.cell), at.pbc,
                                                                             calc.settings["kspacing_per_A"])),
                                kpoint_gamma_centred=is_hexagonal(np.array(at.cell)))
                spin = spin_setup(at, calc.settings)
                if spin is not None:  # UKS + U: the seeded moments and the kinds they gave
                    settings.update(spin_polarised=True, multiplicity=spin.multiplicity,
                                    initial_magnetic_moments_muB=list(spin.initial_moments))
                base = dict(
                    doc_key=exact_key(self.dataset, info.spec, at), dataset=self.dataset,
                    source=configs[k].info.get("source", "given"),
                    system=configs[k].info.get("system") or at.get_chemical_formula(), split=self.split,
                    formula=at.get_chemical_formula(), elements=sorted(set(at.get_chemical_symbols())),
                    n_atoms=len(at), fingerprint=fingerprint(at).round(6).tolist(),
                    structure=AseAtomsAdaptor.get_structure(at).as_dict(), engine=info.spec, dft_settings=settings,
                )
                with timed() as timer:
                    try:
                        e = float(at.get_potential_energy())
                        f = np.array(at.get_forces())
                        s = np.array(at.get_stress()).tolist() if self.compute_stress else None
                        mm = calc.results.get("magmoms") if spin is not None else None
                        res = dict(state="successful", energy_eV=e, forces_eV_per_A=f.tolist(), stress_eV_per_A3=s,
                                   magnetic_moments_muB=None if mm is None else np.round(mm, 3).tolist())
                    except CalculationFailedError as exc:
                        res = dict(state="failed", failure_reason=str(exc))
                doc = LabelledConfigDoc(**base, **res, provenance=make_provenance(info, timer))
                log.info("labelled %s (%s, %s): %s in %.1f s", doc.formula, doc.source, doc.system, doc.state,
                         timer.wall_time_s)
                if self.store_result:
                    persist(doc)
                docs.append(doc)
                if progress:
                    progress(n + 1, len(keep), doc)
        finally:
            calc.close()
        return docs

    def _existing(self) -> list[tuple[str, list[float]]]:
        from contactflow.store import open_store

        with open_store() as store:
            docs = store.find("labels", {"dataset": self.dataset}, projection={"formula": 1, "fingerprint": 1})
        return [(d["formula"], d["fingerprint"]) for d in docs]


def import_extxyz(path, dataset: str, split: str, engine: str, store=None) -> int:
    """Store the labelled configurations of an extxyz file (from :func:`contactflow.mlp.data.write_extxyz`).

    Each frame becomes a successful :class:`LabelledConfigDoc` with the same key the labelling job would
    give it, so importing twice (or importing what was labelled here) adds nothing twice.

    Returns
    -------
    int
        Configurations in the file.
    """
    from contactflow.engines import engine_info
    from contactflow.engines.cp2k import is_hexagonal, kpoint_grid, preset
    from contactflow.mlp.data import read_extxyz
    from contactflow.schemas.provenance import Provenance

    if split not in ("train", "test"):
        raise TrainingInputError(f"split must be 'train' or 'test', got {split!r}")
    info = engine_info(engine)
    frames = read_extxyz(path)
    docs = []
    for at in frames:
        res = at.calc.results
        p = preset(info.spec.partition(":")[2] or None) if info.spec.startswith("cp2k") else {}
        grid = list(kpoint_grid(np.array(at.cell), at.pbc, p["kspacing_per_A"])) if p else None
        docs.append(LabelledConfigDoc(
            doc_key=exact_key(dataset, info.spec, at), dataset=dataset, source=str(at.info.get("source", "imported")),
            system=str(at.info.get("system") or at.get_chemical_formula()), split=split,
            formula=at.get_chemical_formula(), elements=sorted(set(at.get_chemical_symbols())), n_atoms=len(at),
            fingerprint=fingerprint(at).round(6).tolist(), structure=AseAtomsAdaptor.get_structure(at).as_dict(),
            engine=info.spec, state="successful",
            dft_settings=dict(p, kpoint_grid=grid, kpoint_gamma_centred=is_hexagonal(np.array(at.cell))) if p else {},
            energy_eV=float(res["energy"]), forces_eV_per_A=np.asarray(res["forces"]).tolist(),
            stress_eV_per_A3=np.asarray(res["stress"]).tolist() if "stress" in res else None,
            provenance=Provenance(code_versions=dict(info.versions), engine=info.spec, device="cpu",
                                  model_hash=info.model_hash),
        ))
    if store is not None:
        store.upsert_many(docs)
    else:
        persist(*docs)
    return len(docs)
