"""Bulk library: shipped CIFs by name, any CIF/POSCAR path, or a pymatgen Structure."""

from pathlib import Path

from pymatgen.core import Structure

from contactflow.errors import RecipeError
from contactflow.paths import STRUCTURES_DIR


#: Common names accepted by :func:`load_bulk` for the shipped files (lower case).
ALIASES = {
    "silicon": "Si", "c-si": "Si", "quartz": "SiO2", "alpha-quartz": "SiO2", "rutile": "SnO2",
    "cassiterite": "SnO2", "magnetite": "Fe3O4", "sic": "SiC_4H", "3c-sic": "SiC_3C", "4h-sic": "SiC_4H",
    "beta-sn": "Sn", "tin": "Sn", "lixsi": "Li15Si4",
}


def available_bulks() -> list[str]:
    """Names of the bulk structures shipped in ``structures/`` (file stems)."""
    return sorted(p.stem for p in STRUCTURES_DIR.glob("*.cif"))


def load_bulk(source: "str | Path | Structure") -> Structure:
    """Load a bulk structure.

    Parameters
    ----------
    source
        A shipped name (``"Si"``, ``"graphite"``; case-insensitive; see :data:`ALIASES`), a path to a CIF/POSCAR file, or
        a pymatgen ``Structure`` (returned as a copy).

    Returns
    -------
    Structure
        The conventional bulk cell as stored.

    Raises
    ------
    RecipeError
        If the name is not shipped and no such file exists.
    """
    if isinstance(source, Structure):
        return source.copy()
    by_name = {p.stem.lower(): p for p in STRUCTURES_DIR.glob("*.cif")}
    key = str(source).lower()
    key = ALIASES.get(key, key).lower()
    if key in by_name:
        return Structure.from_file(by_name[key])
    path = Path(source).expanduser()
    if path.is_file():
        try:
            return Structure.from_file(path)
        except Exception as exc:  # pymatgen raises many types for unreadable files
            raise RecipeError(f"cannot read structure file {path}: {exc}") from exc
    raise RecipeError(
        f"unknown bulk structure {str(source)!r}; shipped: {', '.join(available_bulks())}, "
        "or give a path to a CIF/POSCAR file"
    )
