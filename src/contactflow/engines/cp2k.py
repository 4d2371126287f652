"""CP2K (Debian's ``cp2k`` package) through ASE's shell calculator: PBE + D3(BJ), GTH/MOLOPT.

Spec: ``cp2k`` or ``cp2k:<preset>``; presets are in :data:`PRESETS`, the one place where the DFT
settings live. ``pbe-d3`` is deliberately loose (it is meant for ≤ 60-atom cells on a laptop or CI
runner); ``pbe-d3-tight`` is the setting to converge against.

Notes on ASE's wrapper (checked with ASE 3.29 and CP2K 2023.1):

- ``cutoff`` is in eV, so Rydberg values are converted here (300 Ry = 300 × ``ase.units.Rydberg``).
- It has no k-point keyword; k-points, smearing, mixing and dispersion go into the ``inp`` template.
  The Monkhorst–Pack grid follows from the cell (:func:`kpoint_grid`) and is rebuilt when a
  calculation sees a cell with a different grid. Hexagonal cells (graphene, graphite) get the
  Γ-centred grid of the same size (:func:`is_hexagonal`); other lattices keep the shifted MP grid,
  which is symmetric for them.
- The shell command is ``$ASE_CP2K_COMMAND`` or ``cp2k_shell.psmp`` with ``OMP_NUM_THREADS`` =
  ``$CONTACTFLOW_CP2K_THREADS`` (default: all cores).
- An SCF that does not converge makes CP2K ≥ 2022 abort (unless told to ignore it); either way it
  surfaces here as :class:`~contactflow.engines.checks.CalculationFailedError`, never as a number.

Spin and Hubbard U (every preset; one table, :data:`HUBBARD_U_EV`): a cell holding an element of that
table (Fe), or any atom with a non-zero initial magnetic moment (``atoms.set_initial_magnetic_moments``),
is computed spin-polarised (UKS) with PBE+U (Dudarev, U_eff = U − J on the d shell, Mulliken
projector), its SCF by OT at the seeded total moment (no smearing: OT needs integer occupations). Atoms with different initial moments get
their own CP2K kinds (``MAGNETIZATION`` = the initial moment), so magnetite's ferrimagnetic order
(tetrahedral Fe(A) −, octahedral Fe(B) +; :func:`contactflow.structures.magnetism.magnetite_moments`)
is the starting guess; without given moments the table's element moment starts a ferromagnetic guess.
After the SCF the Mulliken spin moments are read back (``results["magmoms"]``); an atom started at
|m₀| ≥ 1 μB that ends with the opposite sign or below ``moment_check_fraction`` × |m₀| means the
magnetic order collapsed, which raises :class:`CalculationFailedError` (the label is stored failed).

Γ only: CP2K 2023.1 (Debian) has neither DFT+U nor OT with k-points (cp2k/cp2k#225, #2050; DFT+U with
k-points arrived in 2026, cp2k/cp2k#4855), so a spin-polarised cell whose k-grid under the preset's spacing
is not 1×1×1 is refused before compute (stored failed with that reason): Fe cells must be ≥ ~8 Å along
every periodic axis (conventional magnetite, 8.39 Å; 2×2 Fe3O4(111); fragments on 4×4 rGO), never the
5.94 Å primitive or (111) 1×1 cells, whose Γ-only energies would be k-point artefacts.

U_eff(Fe 3d) = 3.61 eV: U = 4.5 eV, J = 0.89 eV of Jeng, Guo & Huang, Phys. Rev. Lett. 93, 156403
(2004) (charge/orbital order of magnetite), the value used for magnetite surfaces by Bliem et al.,
Science 346, 1215 (2014), and close to Wang, Maxisch & Ceder's 4.0 eV fitted to Fe oxide oxidation
enthalpies (Phys. Rev. B 73, 195107 (2006)).
"""

import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from ase import units
from ase.calculators.cp2k import CP2K

from contactflow.engines.checks import CalculationFailedError
from contactflow.errors import EngineSpecError

DEFAULT_PRESET = "pbe-d3"

#: DFT settings per preset (the only place they are defined).
#: kspacing_per_A: largest spacing of the Monkhorst–Pack grid, 2π/Å units (|b_i|/n_i ≤ kspacing).
PRESETS: dict[str, dict] = {
    "pbe-d3": {
        "xc": "PBE", "dispersion": "DFTD3(BJ)", "basis_set": "DZVP-MOLOPT-SR-GTH",
        "basis_set_file": "BASIS_MOLOPT", "pseudo_potential": "GTH-PBE", "potential_file": "GTH_POTENTIALS",
        "cutoff_Ry": 250.0, "rel_cutoff_Ry": 40.0, "eps_scf": 1.0e-6, "max_scf": 80,
        "smearing_K": 300.0, "added_mos": 10, "mixing_alpha": 0.3, "mixing_nbuffer": 4, "kspacing_per_A": 0.8,
    },
    "pbe-d3-tight": {
        "xc": "PBE", "dispersion": "DFTD3(BJ)", "basis_set": "DZVP-MOLOPT-SR-GTH",
        "basis_set_file": "BASIS_MOLOPT", "pseudo_potential": "GTH-PBE", "potential_file": "GTH_POTENTIALS",
        "cutoff_Ry": 400.0, "rel_cutoff_Ry": 60.0, "eps_scf": 1.0e-7, "max_scf": 200,
        "smearing_K": 300.0, "added_mos": 20, "mixing_alpha": 0.2, "mixing_nbuffer": 4, "kspacing_per_A": 0.3,
    },
}
#: Spin and DFT+U settings shared by every preset (see the module notes; sources there).
#: hubbard_u_eV: U_eff on the d shell per element; a cell holding one of these elements is spin-polarised.
#: initial_moment_muB: starting moment per element when the atoms carry none (ferromagnetic start).
#: moment_check_fraction: a seeded moment must keep its sign and ≥ this fraction of its size.
#: Spin-polarised cells use OT (DIIS, FULL_ALL preconditioner) with an outer loop (max_scf_spin inner ×
#: outer_scf_spin outer steps) at the seeded total moment: Broyden mixing with smearing did not converge
#: magnetite's primitive cell in 30 steps (density residual 0.2–0.6), OT DIIS did (MACHINE-NOTES, 98 steps).
SPIN_SETTINGS: dict = {
    "hubbard_u_eV": {"Fe": 3.61}, "plus_u_method": "MULLIKEN", "initial_moment_muB": {"Fe": 4.0},
    "moment_check_fraction": 0.5, "max_scf_spin": 50, "outer_scf_spin": 8,
}
for _p in PRESETS.values():
    _p.update({k: (dict(v) if isinstance(v, dict) else v) for k, v in SPIN_SETTINGS.items()})
HUBBARD_U_EV = SPIN_SETTINGS["hubbard_u_eV"]
DATA_DIR_CANDIDATES = ("/usr/share/cp2k", "/usr/share/cp2k/data")
VALID_PRESETS_HELP = f"valid CP2K presets: {', '.join(PRESETS)} (spec 'cp2k' means 'cp2k:{DEFAULT_PRESET}')"


def preset(name: str | None) -> dict:
    """Settings of a preset; ``None`` means :data:`DEFAULT_PRESET`."""
    key = (name or DEFAULT_PRESET).lower()
    if key not in PRESETS:
        raise EngineSpecError(f"unknown CP2K preset {name!r}; {VALID_PRESETS_HELP}")
    return dict(PRESETS[key])


def cp2k_command() -> str:
    """The cp2k shell command (``$ASE_CP2K_COMMAND`` or ``cp2k_shell.psmp``), threads set."""
    cmd = os.environ.get("ASE_CP2K_COMMAND", "cp2k_shell.psmp")
    exe = cmd.split()[0]
    if shutil.which(exe) is None and not Path(exe).is_file():
        raise EngineSpecError(
            f"CP2K shell {exe!r} not found; install Debian's cp2k (apt-get install cp2k) or set "
            "ASE_CP2K_COMMAND to a cp2k_shell binary"
        )
    threads = os.environ.get("CONTACTFLOW_CP2K_THREADS") or str(os.cpu_count() or 1)
    return f"env OMP_NUM_THREADS={threads} {cmd}"


@lru_cache(maxsize=1)
def cp2k_version() -> str:
    """CP2K version string of the installed binary (``"not installed"`` if absent)."""
    exe = os.environ.get("ASE_CP2K_COMMAND", "cp2k_shell.psmp").split()[0].replace("cp2k_shell", "cp2k")
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    m = re.search(r"CP2K version ([\w.\-]+)", out)
    return m.group(1) if m else "unknown"


def _data_file(name: str) -> Path | None:
    for d in [os.environ.get("CP2K_DATA_DIR", ""), *DATA_DIR_CANDIDATES]:
        if d and (Path(d) / name).is_file():
            return Path(d) / name
    return None


@lru_cache(maxsize=8)
def _elements_with(file_name: str, label: str) -> frozenset[str]:
    """Elements that have an entry named ``label`` in a CP2K basis/potential file."""
    path = _data_file(file_name)
    if path is None:
        return frozenset()
    out = set()
    for line in path.read_text(errors="replace").splitlines():
        tok = line.split()
        if len(tok) >= 2 and not tok[0].startswith("#") and tok[0].isalpha() and label in tok[1:]:
            out.add(tok[0].capitalize())
    return frozenset(out)


def cp2k_elements(preset_name: str | None) -> frozenset[str]:
    """Elements for which the preset's basis set and pseudopotential both exist."""
    p = preset(preset_name)
    return _elements_with(p["basis_set_file"], p["basis_set"]) & _elements_with(
        p["potential_file"], p["pseudo_potential"]
    )


def kpoint_grid(cell: np.ndarray, pbc, kspacing_per_A: float) -> tuple[int, int, int]:
    """Monkhorst–Pack grid with spacing ≤ ``kspacing_per_A`` (2π/Å); 1 along non-periodic or vacuum axes.

    An axis counts as vacuum-padded (one k-point) when its cell vector is ≥ 15 Å, as slabs' c axes are.
    """
    recip = 2 * np.pi * np.linalg.inv(np.asarray(cell, dtype=float)).T
    grid = []
    for i in range(3):
        length = float(np.linalg.norm(np.asarray(cell)[i]))
        if not pbc[i] or length >= 15.0:
            grid.append(1)
        else:
            grid.append(max(1, math.ceil(np.linalg.norm(recip[i]) / kspacing_per_A)))
    return tuple(grid)


def is_hexagonal(cell: np.ndarray, tol_deg: float = 1.0) -> bool:
    """True when the angle between the first two cell vectors is 60° or 120° (hexagonal/trigonal planes)."""
    a, b = np.asarray(cell, dtype=float)[:2]
    cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    ang = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return min(abs(ang - 60.0), abs(ang - 120.0)) < tol_deg


@lru_cache(maxsize=64)
def valence_electrons(element: str, potential: str = "GTH-PBE", file_name: str = "GTH_POTENTIALS") -> int:
    """Valence charge q of ``element``'s pseudopotential entry named ``potential`` (e.g. 16 for Fe GTH-PBE-q16)."""
    path = _data_file(file_name)
    if path is not None:
        for line in path.read_text(errors="replace").splitlines():
            tok = line.split()
            if len(tok) >= 2 and tok[0] == element and potential in tok[1:]:
                for t in tok[1:]:
                    m = re.search(r"-q(\d+)$", t)
                    if m:
                        return int(m.group(1))
    raise EngineSpecError(f"no {potential} pseudopotential entry for {element} in {file_name}")


@dataclass(frozen=True)
class SpinSetup:
    """How one cell is treated magnetically: per-atom kind names, the kinds' moments, multiplicity."""

    labels: tuple[str, ...]
    kinds: tuple[tuple[str, str, float], ...]  # (kind name, element, initial moment μB)
    multiplicity: int
    initial_moments: tuple[float, ...]


def spin_setup(atoms, settings: dict) -> SpinSetup | None:
    """The spin treatment of ``atoms`` under ``settings`` (``None``: closed shell, RKS).

    Spin-polarised when an element of ``hubbard_u_eV`` is present or an initial moment is non-zero.
    Initial moments are the atoms' own (``get_initial_magnetic_moments``); when all are zero, each atom of
    an element in ``initial_moment_muB`` starts at that moment. The multiplicity is |Σm| + 1, corrected
    by one to match the parity of the valence-electron count; OT keeps that total moment.
    """
    symbols = atoms.get_chemical_symbols()
    m = np.asarray(atoms.get_initial_magnetic_moments(), dtype=float)
    u = settings.get("hubbard_u_eV") or {}
    if not (set(symbols) & set(u)) and not np.any(np.abs(m) > 1e-8):
        return None
    if not np.any(np.abs(m) > 1e-8):
        start = settings.get("initial_moment_muB") or {}
        m = np.array([float(start.get(el, 0.0)) for el in symbols])
    kinds: dict[tuple[str, float], str] = {}
    labels = []
    for el, mi in zip(symbols, m):
        key = (el, round(float(mi), 3))
        if key[1] == 0.0:
            labels.append(el)
            continue
        if key not in kinds:
            sign = "p" if key[1] > 0 else "m"
            kinds[key] = f"{el}_{sign}{abs(key[1]):g}".replace(".", "d")
        labels.append(kinds[key])
    n_val = sum(valence_electrons(el, settings["pseudo_potential"], settings["potential_file"]) for el in symbols)
    spin = int(round(abs(float(m.sum()))))
    if (n_val - spin) % 2:
        spin += 1
    return SpinSetup(tuple(labels), tuple((name, el, mom) for (el, mom), name in kinds.items()), spin + 1,
                     tuple(float(x) for x in m))


def _kind_sections(p: dict, spin: SpinSetup | None, elements: set[str]) -> str:
    """KIND sections: DFT+U on plain element kinds present, and full kinds for seeded-moment atoms."""
    u = p.get("hubbard_u_eV") or {}

    def plus_u(el: str) -> str:
        if spin is None or el not in u:
            return ""
        return (f"   &DFT_PLUS_U\n    L 2\n    U_MINUS_J [eV] {u[el]}\n   &END DFT_PLUS_U\n")

    out = ""
    if spin is not None:
        for el in sorted(elements & set(u) & set(spin.labels)):
            out += f"  &KIND {el}\n{plus_u(el)}  &END KIND\n"
        for name, el, mom in spin.kinds:
            out += (f"  &KIND {name}\n   ELEMENT {el}\n   BASIS_SET {p['basis_set']}\n"
                    f"   POTENTIAL {p['pseudo_potential']}\n   MAGNETIZATION {mom:g}\n{plus_u(el)}  &END KIND\n")
    return f" &SUBSYS\n{out} &END SUBSYS\n" if out else ""


def _inp_template(p: dict, grid: tuple[int, int, int], gamma_centred: bool = False,
                  spin: SpinSetup | None = None, elements: set[str] | None = None) -> str:
    kp = ""
    if grid != (1, 1, 1):
        scheme = f"MONKHORST-PACK {grid[0]} {grid[1]} {grid[2]}"
        if gamma_centred and any(n % 2 == 0 for n in grid):
            # Shifted (even) Monkhorst-Pack grids break hexagonal symmetry: a perfect graphene cell then
            # shows 0.75 eV/Å spurious forces with 4×4 k (measured). MacDonald's grid with a 1/(2n) shift
            # on even axes is the Γ-centred grid (forces 0.015 eV/Å, the real-space-grid floor).
            shift = " ".join(f"{0.5 / n if n % 2 == 0 else 0.0:.10f}" for n in grid)
            scheme = f"MACDONALD {grid[0]} {grid[1]} {grid[2]} {shift}"
        kp = f"""  &KPOINTS
   SCHEME {scheme}
   FULL_GRID OFF
  &END KPOINTS
"""
    scf = f"""   ADDED_MOS {p['added_mos']}
   &SMEAR ON
    METHOD FERMI_DIRAC
    ELECTRONIC_TEMPERATURE [K] {p['smearing_K']}
   &END SMEAR
   &MIXING
    METHOD BROYDEN_MIXING
    ALPHA {p['mixing_alpha']}
    NBUFFER {p['mixing_nbuffer']}
   &END MIXING
"""
    spin_dft = ""
    if spin is not None:
        scf = f"""   SCF_GUESS ATOMIC
   &OT ON
    MINIMIZER DIIS
    PRECONDITIONER FULL_ALL
   &END OT
   &OUTER_SCF
    MAX_SCF {p['outer_scf_spin']}
    EPS_SCF {p['eps_scf']}
   &END OUTER_SCF
"""
        spin_dft = f"""  PLUS_U_METHOD {p['plus_u_method']}
  &PRINT
   &MULLIKEN ON
   &END MULLIKEN
  &END PRINT
"""
    return f"""&FORCE_EVAL
 &DFT
{spin_dft}{kp}  &MGRID
   REL_CUTOFF [Ry] {p['rel_cutoff_Ry']}
  &END MGRID
  &SCF
   EPS_SCF {p['eps_scf']}
{scf}  &END SCF
  &XC
   &VDW_POTENTIAL
    POTENTIAL_TYPE PAIR_POTENTIAL
    &PAIR_POTENTIAL
     TYPE {p['dispersion']}
     PARAMETER_FILE_NAME dftd3.dat
     REFERENCE_FUNCTIONAL {p['xc']}
    &END PAIR_POTENTIAL
   &END VDW_POTENTIAL
  &END XC
 &END DFT
{_kind_sections(p, spin, elements or set())}&END FORCE_EVAL
"""


_MULLIKEN_ROW = re.compile(r"^\s*(\d+)\s+([A-Z][a-z]?)\s+(\d+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*$")


def mulliken_spin_moments(text: str, n_atoms: int) -> np.ndarray | None:
    """Spin moments (μB) per atom from the last UKS Mulliken population analysis in a CP2K output."""
    parts = text.rsplit("Mulliken Population Analysis", 1)
    if len(parts) < 2:
        return None
    rows = {}
    for line in parts[1].splitlines():
        m = _MULLIKEN_ROW.match(line)
        if m:
            rows.setdefault(int(m.group(1)), float(m.group(7)))
        elif line.strip().startswith("# Total charge"):
            break
    if len(rows) != n_atoms:
        return None
    return np.array([rows[i + 1] for i in range(n_atoms)])


def magnetic_order_violations(initial: "np.ndarray | tuple", final: np.ndarray, fraction: float = 0.5) -> list[str]:
    """Atoms seeded with |m₀| ≥ 1 μB whose final moment flipped sign or shrank below ``fraction`` × |m₀|."""
    out = []
    for i, (m0, m) in enumerate(zip(initial, final)):
        if abs(m0) < 1.0:
            continue
        if np.sign(m) != np.sign(m0) or abs(m) < fraction * abs(m0):
            out.append(f"atom {i} started at {m0:+.1f} μB, ended at {m:+.2f} μB")
    return out


class ContactflowCP2K(CP2K):
    """ASE's CP2K shell calculator with per-cell k-points and failures as exceptions.

    Parameters
    ----------
    preset_name
        Key of :data:`PRESETS`.
    directory
        Where CP2K writes its files (default: a fresh temporary directory).
    overrides
        Changes to the preset's settings (same keys as :data:`PRESETS` entries).
    """

    def __init__(self, preset_name: str | None = None, directory: str | None = None,
                 overrides: dict | None = None, **kwargs):
        self.preset_name = (preset_name or DEFAULT_PRESET).lower()
        self.settings = preset(self.preset_name)
        unknown = set(overrides or {}) - set(self.settings)
        if unknown:
            raise EngineSpecError(f"unknown CP2K setting(s) {sorted(unknown)}; valid: {sorted(self.settings)}")
        self.settings.update(overrides or {})
        p = self.settings
        workdir = Path(directory or tempfile.mkdtemp(prefix="contactflow-cp2k-"))
        workdir.mkdir(parents=True, exist_ok=True)
        self._own_dir = None if directory else workdir  # removed again by close()
        self.grid: tuple[int, int, int] | None = None
        self.gamma_centred: bool | None = None
        self.spin: SpinSetup | None = None
        self._setup_key: tuple | None = None
        super().__init__(
            command=cp2k_command(), label=str(workdir / "cp2k"), xc=p["xc"],
            cutoff=p["cutoff_Ry"] * units.Rydberg, basis_set=p["basis_set"],
            basis_set_file=p["basis_set_file"], potential_file=p["potential_file"],
            pseudo_potential=p["pseudo_potential"], max_scf=p["max_scf"],
            stress_tensor=kwargs.pop("stress_tensor", False), inp=_inp_template(p, (1, 1, 1)), **kwargs,
        )

    def close(self) -> None:
        """Stop the CP2K shell and remove the temporary directory this calculator made."""
        super().close()
        if getattr(self, "_own_dir", None) is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    @property
    def out_file(self) -> Path:
        """CP2K's output file of the current force environment."""
        return Path(self.label + ".out")

    def calculate(self, atoms=None, properties=None, system_changes=None):
        """Energy and forces; rebuild the force environment when the k-point grid changes."""
        from ase.calculators.calculator import all_changes

        system_changes = all_changes if system_changes is None else system_changes
        target = atoms if atoms is not None else self.atoms
        grid = kpoint_grid(np.array(target.cell), target.pbc, self.settings["kspacing_per_A"])
        centred = is_hexagonal(np.array(target.cell))
        spin = spin_setup(target, self.settings)
        elements = frozenset(target.get_chemical_symbols())
        if spin is not None and grid != (1, 1, 1):
            raise CalculationFailedError(
                f"spin-polarised PBE+U runs at the Γ point only (CP2K {cp2k_version()} has neither DFT+U nor OT "
                f"with k-points), but this cell needs a {grid} k-grid at kspacing {self.settings['kspacing_per_A']} "
                "2π/Å: use a supercell ≥ ~8 Å along each periodic axis (or override kspacing_per_A knowingly)")
        key = (grid, centred, spin, elements if spin is not None else None)
        if key != self._setup_key:
            p = self.settings
            self.parameters.inp = _inp_template(p, grid, centred, spin, set(elements))
            self.parameters.uks = spin is not None
            self.parameters.multiplicity = spin.multiplicity if spin is not None else None
            self.parameters.max_scf = p["max_scf_spin"] if spin is not None else p["max_scf"]
            if self._force_env_id is not None:
                self._release_force_env()
            self.grid, self.gamma_centred, self.spin, self._setup_key = grid, centred, spin, key
        try:
            super().calculate(atoms, properties or ["energy"], system_changes)
        except Exception as exc:  # the shell dies or answers garbage when CP2K aborts
            reason = self._abort_reason() or f"{type(exc).__name__}: {exc}"
            self._shell = None
            self._force_env_id = None
            raise CalculationFailedError(f"CP2K failed: {reason}") from exc
        text = self.out_file.read_text(errors="replace") if self.out_file.is_file() else ""
        last = text.rsplit("SCF WAVEFUNCTION OPTIMIZATION", 1)[-1]
        if "SCF run NOT converged" in last:
            raise CalculationFailedError(
                f"CP2K SCF did not converge in {self.parameters.max_scf} steps (EPS_SCF "
                f"{self.settings['eps_scf']})"
            )
        if self.spin is not None:
            moments = mulliken_spin_moments(text, len(target))
            if moments is None:
                raise CalculationFailedError("CP2K printed no Mulliken spin moments for a spin-polarised run")
            self.results["magmoms"] = moments
            self.results["magmom"] = float(moments.sum())
            bad = magnetic_order_violations(self.spin.initial_moments, moments, self.settings["moment_check_fraction"])
            if bad:
                raise CalculationFailedError("magnetic order collapsed: " + "; ".join(bad[:6]))

    def _generate_input(self):
        """ASE's input with the per-atom kind names of :class:`SpinSetup` (seeded moments) in &COORD."""
        text = super()._generate_input()
        if self.spin is None or all(lab == el for lab, el in zip(self.spin.labels, self.atoms.get_chemical_symbols())):
            return text
        lines = text.splitlines()
        start = next(i for i, ln in enumerate(lines) if ln.strip().upper() == "&COORD")
        for k, lab in enumerate(self.spin.labels):
            tok = lines[start + 1 + k].split(None, 1)
            lines[start + 1 + k] = lines[start + 1 + k][: len(lines[start + 1 + k]) - len(lines[start + 1 + k].lstrip())] + f"{lab} {tok[1]}"
        return "\n".join(lines)

    def _abort_reason(self) -> str | None:
        if not self.out_file.is_file():
            return None
        text = self.out_file.read_text(errors="replace")
        if "SCF run NOT converged" in text.rsplit("SCF WAVEFUNCTION OPTIMIZATION", 1)[-1]:
            return (f"SCF did not converge in {self.settings['max_scf']} steps "
                    f"(EPS_SCF {self.settings['eps_scf']})")
        m = re.search(r"\[ABORT\].*?\n((?:.*\n){1,8})", text)
        if m:
            lines = [re.sub(r"[*|]", " ", ln).strip() for ln in m.group(1).splitlines()]
            msg = " ".join(ln for ln in lines if ln and not set(ln) <= set("/\\_O "))
            return msg[:300] or None
        return None
