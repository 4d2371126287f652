"""Configuration samplers built on the project's own workflows.

Each sampler returns ASE ``Atoms`` tagged with ``info["source"]`` (which workflow made it) and
``info["system"]`` (the system label errors are reported by). They reuse the workflows' geometry code:
traction–separation opening (:func:`contactflow.jobs.traction.separation_images`), registry shifts
(:func:`contactflow.jobs.adhesion.shifted`), NEB bands (:func:`contactflow.jobs.neb.interpolate_band`),
interstitial Li sites (:mod:`contactflow.structures.li_sites`) and the engines' MD.
"""

from collections.abc import Sequence

import numpy as np
from ase import Atoms

SOURCES = ("strain", "rattle", "neb_images", "traction", "registry", "md", "li_insertion", "active_learning")


def _tag(atoms: Atoms, source: str, system: str) -> Atoms:
    a = atoms.copy()
    a.set_constraint()
    a.calc = None
    a.info = {"source": source, "system": system}
    return a


def strained_cells(atoms: Atoms, strains_pct: Sequence[float] = (-3, -1.5, 1.5, 3), shear_pct: Sequence[float] = (2,),
                   system: str = "", axes: Sequence[int] = (0, 1, 2)) -> list[Atoms]:
    """Homogeneously strained copies: isotropic (over ``axes``), uniaxial along each axis, and xy shear.

    Parameters
    ----------
    atoms
        Reference configuration (periodic).
    strains_pct
        Normal strains, %.
    shear_pct
        Engineering shear strains (xy), %.
    axes
        Axes that may be strained (``(0, 1)`` for slabs: the vacuum axis stays).
    """
    out = []
    cell = np.array(atoms.cell)
    for e in strains_pct:
        eps = np.zeros((3, 3))
        for ax in axes:
            eps[ax, ax] = e / 100.0
        out.append(_strain(atoms, eps, system))
        for ax in axes:
            eps = np.zeros((3, 3))
            eps[ax, ax] = e / 100.0
            out.append(_strain(atoms, eps, system))
    for g in shear_pct:
        eps = np.zeros((3, 3))
        eps[0, 1] = eps[1, 0] = g / 200.0
        out.append(_strain(atoms, eps, system))
    assert all(len(a) == len(atoms) for a in out) and np.allclose(np.array(atoms.cell), cell)
    return out


def _strain(atoms: Atoms, eps: np.ndarray, system: str) -> Atoms:
    a = atoms.copy()
    a.set_cell(np.array(atoms.cell) @ (np.eye(3) + eps), scale_atoms=True)
    return _tag(a, "strain", system)


def rattled(atoms: Atoms, sigma_A: float = 0.05, n: int = 5, seed: int = 0, system: str = "",
            source: str = "rattle") -> list[Atoms]:
    """``n`` copies with Gaussian displacements of standard deviation ``sigma_A`` (seeded)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a = atoms.copy()
        a.positions += rng.normal(0.0, sigma_A, a.positions.shape)
        out.append(_tag(a, source, system))
    return out


def neb_images(initial: Atoms, final: Atoms, n_images: int = 5, method: str = "idpp", system: str = "") -> list[Atoms]:
    """The interior images of the band the NEB workflow starts from (IDPP by default)."""
    from contactflow.structures.separation import interpolate_band

    band = interpolate_band(initial, final, n_images, method)
    return [_tag(a, "neb_images", system) for a in band[1:-1]]


def traction_scan(atoms: Atoms, film_idx: list[int], gaps_A: Sequence[float], system: str = "") -> list[Atoms]:
    """Rigid openings of an interface as the traction–separation workflow makes them."""
    from contactflow.structures.separation import separation_images

    images, _ = separation_images(atoms, film_idx, gaps_A)
    return [_tag(a, "traction", system) for a in images]


def registry_scan(atoms: Atoms, film_idx: list[int], n: int = 3, system: str = "") -> list[Atoms]:
    """In-plane shifts of the film on an ``n`` × ``n`` grid, as the adhesion registry scan makes them."""
    from contactflow.structures.separation import registry_shifts, shifted

    return [_tag(shifted(atoms, film_idx, s), "registry", system) for s in registry_shifts(n)]


def li_insertions(host: Atoms, n_sites: int = 4, min_dist_A: float = 1.9, system: str = "") -> list[Atoms]:
    """The host with one extra Li at each of its ``n_sites`` most open distinct interstitial voids."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from contactflow.structures.li_sites import find_interstitial_sites, insert_li

    s = AseAtomsAdaptor.get_structure(host)
    sites = [x for x in find_interstitial_sites(s) if x.min_dist_A >= min_dist_A]
    sites.sort(key=lambda x: -x.min_dist_A)
    return [_tag(AseAtomsAdaptor.get_atoms(insert_li(s, x)), "li_insertion", system) for x in sites[:n_sites]]


def md_snapshots(atoms: Atoms, engine: str = "chgnet", temperature_K: float = 600.0, n_frames: int = 5,
                 interval: int = 10, timestep_fs: float = 1.0, seed: int = 0, device: str = "cpu",
                 system: str = "") -> list[Atoms]:
    """Frames of a short Langevin MD run with an engine (the universal MLP by default).

    Parameters
    ----------
    engine
        Engine spec that drives the MD (the frames are then labelled by DFT).
    n_frames, interval
        Frames kept and MD steps between them.
    """
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    from contactflow.engines import get_calculator

    work = atoms.copy()
    work.set_constraint()
    work.calc = get_calculator(engine, device, ("energy", "forces"))  # NVT MD: no stress
    MaxwellBoltzmannDistribution(work, temperature_K=temperature_K, rng=np.random.default_rng(seed))
    dyn = Langevin(work, timestep_fs * units.fs, temperature_K=temperature_K, friction=0.02,
                   rng=np.random.default_rng(seed + 1))
    out = []
    for _ in range(n_frames):
        dyn.run(interval)
        out.append(_tag(work, "md", system))
    return out
