"""The engine registry: one entry per base engine (spec → backend). Nothing else lists engines.

A backend knows what it is (``kind``: universal MLP, trained MLP, reactive force field, DFT), where it
runs (``category`` for the queue, whether it can use a GPU), whether it describes bond breaking, which
elements it covers, how to build its ASE calculator and which packages and weights go into provenance.
``calculators.get_calculator``, ``checks.supported_elements``, the evaluators, the dispatch categories
and ``contactflow engines`` all read this table.

Adding an engine is one :class:`EngineBackend` entry in :data:`ENGINES` plus its calculator module
(README, "Extend").
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from contactflow.errors import EngineSpecError

KINDS = ("universal_mlp", "trained_mlp", "reactive", "dft")


@dataclass(frozen=True)
class EngineBackend:
    """What the rest of contactflow needs to know about one base engine.

    Parameters
    ----------
    name
        Base name in specs (``chgnet``, ``mace:<dir>``, ``reaxff:<ffield>``, ``cp2k[:preset]``).
    kind
        One of :data:`KINDS`.
    description
        One line for ``contactflow engines``.
    category
        Dispatch category of a job that runs it: ``gpu`` (an MLP: a GPU worker if one exists) or ``cpu``.
    gpu
        Whether it can run on a GPU (else it always runs on the CPU).
    bond_breaking
        Whether its physics describes breaking and forming bonds (pull-off, fracture): reactive force
        fields, DFT and models trained on bond-breaking data; universal MLPs are not trusted for it.
    dispersion_modifier
        Whether ``+d3`` may be added (engines that carry their own dispersion take none).
    arg
        ``required``, ``optional`` or ``none``: the ``:<arg>`` part of the spec.
    max_atoms
        Practical size limit on one structure (a resource guard; override per call).
    calculator
        ``(arg, device) -> ase Calculator`` (the base calculator, without modifiers).
    elements
        ``arg -> frozenset of symbols`` it covers.
    packages
        Python packages whose versions go into provenance.
    weights
        ``arg -> Path | None``: the parameter/weights file or committee directory that is hashed.
    skips
        Properties the backend can skip computing when a job does not ask for them.
    shipped
        ``() -> list of specs`` this installation ships ready to run (``chgnet+d3``, each committee under
        potentials/mlp, each ReaxFF parameter file …): what ``contactflow engines`` lists and ``auto``
        chooses among.
    part
        ``(arg, device) -> part`` computing only the properties a job asks for
        (:mod:`contactflow.engines.properties`); ``None`` for engines that compute everything they
        implement in one call (their plain calculator is used).
    """

    name: str
    kind: str
    description: str
    category: str
    gpu: bool
    bond_breaking: bool
    dispersion_modifier: bool
    arg: str
    max_atoms: int
    calculator: Callable
    elements: Callable
    packages: tuple[str, ...] = ()
    weights: Callable = field(default=lambda arg: None)
    skips: tuple[str, ...] = ()
    shipped: Callable = field(default=lambda: [])
    part: Callable | None = None


# --- backend functions (lazy imports: importing the registry loads no model) ----------------------
def _chgnet_calc(arg, device):
    from contactflow.engines.calculators import _chgnet_calculator

    return _chgnet_calculator(device)


def _chgnet_elements(arg):
    from ase.data import chemical_symbols

    from contactflow.engines.checks import CHGNET_MAX_Z

    return frozenset(chemical_symbols[1:CHGNET_MAX_Z + 1])


def _chgnet_weights(arg):
    from contactflow.engines.calculators import _chgnet_weights_file

    return _chgnet_weights_file()


def _mace_calc(arg, device):
    from contactflow.engines.calculators import _mace_calculator

    return _mace_calculator(arg, device)


def _chgnet_part(arg, device):
    from contactflow.engines.calculators import _chgnet_model
    from contactflow.engines.properties import CHGNetPart

    return CHGNetPart(_chgnet_model(device))


def _mace_part(arg, device):
    from contactflow.engines.calculators import _mace_calculator
    from contactflow.engines.properties import MACEPart

    return MACEPart(_mace_calculator(arg, device))


def _mace_elements(arg):
    from ase.data import chemical_symbols

    from contactflow.engines.calculators import _mace_model, committee_members

    model = _mace_model(str(committee_members(arg)[0]), "cpu")
    return frozenset(chemical_symbols[int(z)] for z in model.atomic_numbers)


def _mace_weights(arg):
    from contactflow.engines.calculators import model_path

    return model_path(arg)


def _reaxff_calc(arg, device):
    from contactflow.engines.reaxff import ReaxFFCalculator, resolve_ffield

    return ReaxFFCalculator(resolve_ffield(arg))


def _reaxff_elements(arg):
    from contactflow.engines.reaxff import ffield_elements, resolve_ffield

    return frozenset(ffield_elements(str(resolve_ffield(arg))))


def _reaxff_weights(arg):
    from contactflow.engines.reaxff import resolve_ffield

    return resolve_ffield(arg)


def _mace_shipped():
    from contactflow.paths import POTENTIALS_DIR, REPO_ROOT

    mlp = POTENTIALS_DIR / "mlp"
    return [f"mace:{d.relative_to(REPO_ROOT)}" for d in sorted(mlp.glob("*")) if mlp.is_dir()
            and d.is_dir() and any(d.glob("member_*.model"))]


def _reaxff_shipped():
    from contactflow.paths import POTENTIALS_DIR

    return [f"reaxff:{p.name.removeprefix('ffield.reax.')}" for p in sorted((POTENTIALS_DIR / "reaxff").glob("ffield.reax.*"))]


def _cp2k_calc(arg, device):
    from contactflow.engines.cp2k import ContactflowCP2K

    return ContactflowCP2K(arg)


def _cp2k_elements(arg):
    from contactflow.engines.cp2k import cp2k_elements

    return cp2k_elements(arg)


ENGINES: dict[str, EngineBackend] = {
    "chgnet": EngineBackend(
        name="chgnet", kind="universal_mlp", category="gpu", gpu=True, bond_breaking=False,
        dispersion_modifier=True, arg="none", max_atoms=5000,
        description="CHGNet 0.3.0 universal potential (weights ship in the chgnet package; runs offline)",
        calculator=_chgnet_calc, elements=_chgnet_elements, packages=("chgnet",), weights=_chgnet_weights,
        skips=("stress", "magmoms"), shipped=lambda: ["chgnet", "chgnet+d3"], part=_chgnet_part,
    ),
    "mace": EngineBackend(
        name="mace", kind="trained_mlp", category="gpu", gpu=True, bond_breaking=True,
        dispersion_modifier=True, arg="required", max_atoms=5000,
        description="MACE model or committee trained by contactflow (mace:<file or directory of member_*.model>)",
        calculator=_mace_calc, elements=_mace_elements, packages=("mace-torch", "e3nn"), weights=_mace_weights,
        skips=("stress",), shipped=_mace_shipped, part=_mace_part,
    ),
    "reaxff": EngineBackend(
        name="reaxff", kind="reactive", category="cpu", gpu=False, bond_breaking=True,
        dispersion_modifier=False, arg="required", max_atoms=50000,
        description="ReaxFF in LAMMPS (reaxff:<ffield name in potentials/reaxff or path>)",
        calculator=_reaxff_calc, elements=_reaxff_elements, packages=("lammps",), weights=_reaxff_weights,
        shipped=_reaxff_shipped,
    ),
    "cp2k": EngineBackend(
        name="cp2k", kind="dft", category="cpu", gpu=False, bond_breaking=True,
        dispersion_modifier=False, arg="optional", max_atoms=1000,
        description="CP2K DFT, PBE+D3(BJ), DZVP-MOLOPT-SR-GTH (cp2k[:pbe-d3|pbe-d3-tight])",
        calculator=_cp2k_calc, elements=_cp2k_elements, packages=(), shipped=lambda: ["cp2k:pbe-d3"],
    ),
}


def backend(spec_or_base: str) -> EngineBackend:
    """The backend of a spec (``"mace:x+d3"``) or base name, without validating the rest of the spec.

    Raises
    ------
    EngineSpecError
        For an unknown base engine.
    """
    base = str(spec_or_base).strip().split("+")[0].partition(":")[0].strip().lower()
    try:
        return ENGINES[base]
    except KeyError:
        raise EngineSpecError(f"unknown engine {base!r}; known engines: {', '.join(ENGINES)}") from None


def weights_path(spec_or_base: str, arg: str | None) -> Path | None:
    """The weights/parameter file (or committee directory) of an engine, for hashing; ``None`` if none."""
    return backend(spec_or_base).weights(arg)


def shipped_specs(kind: str | None = None) -> list[str]:
    """Every ready-to-run engine spec this installation ships, in registry order (of one ``kind`` if given)."""
    return [spec for be in ENGINES.values() if kind in (None, be.kind) for spec in be.shipped()]
