"""What an engine can treat, checked before any compute; the failure an engine raises.

``check_elements(spec, symbols)`` is called by every job (and by ``run``/``submit``) before it builds a
calculator, so

* a structure beyond the engine's practical size (:data:`ENGINE_LIMITS`: atoms, and an estimate of the
  memory from the structure and the engine's settings) is refused at once with the figure, the limit
  and the override, instead of growing to an out-of-memory kill (CP2K on 10,250 atoms reached 19 GB in
  140 s), and
* a ReaxFF file without Si, or a CP2K basis set without an element, stops the job with a message that
  names the missing elements instead of failing half-way through (or, worse, producing numbers).

Overrides (environment, read at each check):

``CONTACTFLOW_MAX_ATOMS_<ENGINE>``
    Largest structure for one base engine (``CHGNET``, ``MACE``, ``REAXFF``, ``CP2K``), e.g.
    ``CONTACTFLOW_MAX_ATOMS_CP2K=2000`` on a large node.
``CONTACTFLOW_MAX_MEMORY_GB``
    Memory the estimate may reach (default: 80 % of this machine's physical memory).
"""

import os
from collections.abc import Iterable
from dataclasses import dataclass

from ase.data import atomic_numbers, chemical_symbols

from contactflow.errors import EXIT_FAILED_CALCULATION, ConfigError, ContactflowError, EngineSpecError

#: CHGNet 0.3.0 was trained on MPtrj: H (Z=1) to Pu (Z=94).
CHGNET_MAX_Z = 94
#: DFT-D3 (torch-dftd's reference C6 table) covers H (Z=1) to Pu (Z=94).
D3_MAX_Z = 94


class UnsupportedElementsError(EngineSpecError):
    """The structure contains elements the engine (force field, model or basis set) does not cover."""


class ResourceLimitError(ContactflowError, ValueError):
    """The structure is larger than the engine can treat here (atoms or estimated memory)."""


class CalculationFailedError(ContactflowError):
    """An engine ran but did not produce a trustworthy result (SCF or charge equilibration not converged).

    Jobs catch it and store the result as ``state="failed"`` with this message as ``failure_reason``;
    if it reaches the command line, the exit code is 3 (:data:`contactflow.errors.EXIT_FAILED_CALCULATION`).
    """

    exit_code = EXIT_FAILED_CALCULATION


@dataclass(frozen=True)
class EngineLimits:
    """Practical size of one base engine.

    Attributes
    ----------
    max_atoms
        Default largest structure (override: ``CONTACTFLOW_MAX_ATOMS_<ENGINE>``).
    base_MB, per_atom_MB
        Memory estimate ``base + per_atom * N`` (plus the engine's own terms, see :func:`estimate_memory_MB`).
    reason
        Why the atom limit is where it is (shown in the refusal).
    """

    max_atoms: int
    base_MB: float
    per_atom_MB: float
    reason: str


#: peak memory per atom of a CHGNet+D3 energy+forces evaluation, MB (measured, see below)
CHGNET_MB_PER_ATOM = 4.8

ENGINE_LIMITS: dict[str, EngineLimits] = {
    # measured here (CPU, CHGNet 0.4.2 + torch-dftd D3 BJ 10 Å cutoff, Si diamond supercells, peak RSS
    # above the loaded model): 216 atoms +1.0 GB (4.5 s), 1,000 atoms +4.8 GB (16 s): ~4.8 MB per atom
    "chgnet": EngineLimits(20_000, 600.0, CHGNET_MB_PER_ATOM,
                           "CHGNet(+D3) on the CPU needs ~4.8 MB per atom and ~16 s per 1,000-atom evaluation"),
    # MACE models of this project (r_max 5 Å, 2 layers) use about as much memory per atom as CHGNet
    "mace": EngineLimits(20_000, 600.0, CHGNET_MB_PER_ATOM, "MACE on the CPU scales like CHGNet here"),
    # LAMMPS ReaxFF/QEq: ~0.1 MB per atom with its neighbour and bond lists; large runs belong on a cluster
    "reaxff": EngineLimits(200_000, 300.0, 0.1, "ReaxFF (LAMMPS, serial QEq) beyond 200,000 atoms belongs on a cluster"),
    # DFT: 64 Si atoms take ~90 s on 2 cores (shared/MACHINE-NOTES.md) and cost grows ~N^2-N^3
    "cp2k": EngineLimits(500, 300.0, 0.0, "CP2K DFT cost grows as N^2-N^3: 64 Si atoms take ~90 s on 2 cores, so "
                                            "500 atoms is already hours per single point"),
}
#: share of physical memory an estimate may reach by default
MEMORY_FRACTION = 0.8
#: contracted Gaussian functions per atom in DZVP-MOLOPT-SR-GTH: H/He 5; Li-Ar 13 (2s2p1d);
#: K and beyond (semicore d in valence) ~25 (CP2K dense matrices scale with the square of their sum)
def _cp2k_basis_per_atom(symbol: str) -> int:
    z = atomic_numbers.get(symbol, 0)
    return 5 if z <= 2 else 13 if z <= 18 else 25


#: dense N_basis x N_basis matrices CP2K holds at once (overlap, Kohn-Sham, density, OT work and
#: preconditioner matrices, their copies in DBCSR and ScaLAPACK layouts): an estimate, not a measurement
CP2K_DENSE_MATRICES = 12
#: real-space grid memory per atom and per Ry^1.5 of cutoff, MB: ~40 A^3 per atom with vacuum, a grid
#: spacing of pi/sqrt(E_cut) and ~10 grids (density, potentials, multigrid levels, FFT buffers)
CP2K_GRID_MB_PER_ATOM_PER_RY15 = 0.0009


def _env_number(name: str, cast):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        val = cast(float(raw)) if cast is int else cast(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={raw!r} is not a number; unset it or give e.g. {name}=2000") from None
    if not val > 0:
        raise ConfigError(f"{name}={raw!r} must be positive")
    return val


def max_atoms(base: str) -> int:
    """Largest structure ``base`` treats (``CONTACTFLOW_MAX_ATOMS_<BASE>`` or :data:`ENGINE_LIMITS`)."""
    return _env_number(f"CONTACTFLOW_MAX_ATOMS_{base.upper()}", int) or ENGINE_LIMITS[base].max_atoms


def memory_limit_MB() -> float:
    """Memory an estimate may reach: ``CONTACTFLOW_MAX_MEMORY_GB`` or 80 % of physical memory."""
    gb = _env_number("CONTACTFLOW_MAX_MEMORY_GB", float)
    if gb:
        return gb * 1024
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return float("inf")
    return MEMORY_FRACTION * total


def _cap_source() -> str:
    if os.environ.get("CONTACTFLOW_MAX_MEMORY_GB", "").strip():
        return "CONTACTFLOW_MAX_MEMORY_GB"
    return f"{MEMORY_FRACTION:.0%} of this machine's physical memory"


def estimate_memory_MB(spec: str, symbols: list[str]) -> float:
    """Estimated peak memory of one energy+forces evaluation, MB.

    MLPs and ReaxFF: ``base + per_atom * N`` (:data:`ENGINE_LIMITS`). CP2K: dense matrices of the basis
    (:data:`CP2K_DENSE_MATRICES` x N_basis² x 8 B, N_basis from the elements) plus real-space grids that
    grow with the atoms and the preset's cutoff.
    """
    from contactflow.engines.calculators import parse_spec

    parsed = parse_spec(spec)
    lim = ENGINE_LIMITS[parsed.base]
    mb = lim.base_MB + lim.per_atom_MB * len(symbols)
    if parsed.base == "cp2k":
        from contactflow.engines.cp2k import preset

        n_basis = sum(_cp2k_basis_per_atom(s) for s in symbols)
        cutoff = float(preset(parsed.arg)["cutoff_Ry"])
        mb += CP2K_DENSE_MATRICES * n_basis**2 * 8 / 2**20
        mb += CP2K_GRID_MB_PER_ATOM_PER_RY15 * cutoff**1.5 * len(symbols)
    return mb


def _fmt_mb(mb: float) -> str:
    return f"{mb / 1024:,.1f} GB" if mb >= 1024 else f"{mb:,.0f} MB"


def check_resources(spec: str, symbols: list[str]) -> None:
    """Refuse, before any compute, a structure beyond the engine's atom limit or the memory limit.

    Raises
    ------
    ResourceLimitError
        With the structure's figure, the limit, and the environment variable that overrides it.
    """
    from contactflow.engines.calculators import parse_spec

    parsed = parse_spec(spec)
    if parsed.base not in ENGINE_LIMITS:  # pragma: no cover - parse_spec rejects unknown bases
        return
    n = len(symbols)
    var = f"CONTACTFLOW_MAX_ATOMS_{parsed.base.upper()}"
    limit = max_atoms(parsed.base)
    if n > limit:
        raise ResourceLimitError(
            f"engine {parsed.canonical!r} refused a {n:,}-atom structure before any compute: its limit is "
            f"{limit:,} atoms ({var if os.environ.get(var) else ENGINE_LIMITS[parsed.base].reason}); use fewer atoms (smaller "
            f"match.max_area_A2, fewer layers) or a cheaper engine, or raise the limit with {var}={n}")
    mem, cap = estimate_memory_MB(spec, symbols), memory_limit_MB()
    if mem > cap:
        raise ResourceLimitError(
            f"engine {parsed.canonical!r} on {n:,} atoms needs an estimated {_fmt_mb(mem)} of memory, more than "
            f"the {_fmt_mb(cap)} allowed here ({_cap_source()}); refused before any compute: use fewer "
            f"atoms or a larger machine, or set CONTACTFLOW_MAX_MEMORY_GB={mem / 1024 * 1.1:.0f} if it has that much")


def supported_elements(spec: str) -> frozenset[str] | None:
    """Element symbols an engine covers, or ``None`` when it covers every element.

    Parameters
    ----------
    spec
        Engine spec, e.g. ``"reaxff:Fe_O_C_H"``, ``"cp2k:pbe-d3"``, ``"chgnet+d3"``.

    Returns
    -------
    frozenset[str] | None
        Covered symbols (intersection of the base engine and its modifiers).
    """
    from contactflow.engines.calculators import parse_spec

    from contactflow.engines.registry import backend

    parsed = parse_spec(spec)
    z_range = lambda zmax: frozenset(chemical_symbols[1 : zmax + 1])  # noqa: E731
    out = backend(parsed.base).elements(parsed.arg)
    if "d3" in parsed.modifiers:
        out = out & z_range(D3_MAX_Z)
    return out


def check_elements(spec: str, symbols: Iterable[str]) -> None:
    """Raise before any compute if the structure is too large for the engine (:func:`check_resources`)
    or the engine lacks one of its elements.

    Parameters
    ----------
    spec
        Engine spec.
    symbols
        Chemical symbols of the structure (any iterable, repeats allowed).

    Raises
    ------
    ResourceLimitError
        Naming the atom count or memory estimate, the limit and the override.
    UnsupportedElementsError
        Naming the missing elements and the ones the engine covers.
    """
    symbols = list(symbols)
    check_resources(spec, symbols)  # size first: instant, and before a model is loaded
    have = supported_elements(spec)
    if have is None:
        return
    missing = sorted(set(symbols) - have, key=lambda s: atomic_numbers.get(s, 0))
    if missing:
        covered = ", ".join(sorted(have, key=lambda s: atomic_numbers[s]))
        raise UnsupportedElementsError(
            f"engine {spec!r} has no parameters for element(s) {', '.join(missing)} present in the "
            f"structure; it covers: {covered}"
        )
