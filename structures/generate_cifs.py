"""Regenerate the shipped bulk CIFs from published crystallographic data (see README.md).

Run from the repository root: ``python structures/generate_cifs.py``. Each entry is
(space group number, lattice, species, Wyckoff representatives in pymatgen's default setting).
Si.cif and graphite.cif were written the same way by the project's foundation commit.
"""

from pathlib import Path

from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

HERE = Path(__file__).resolve().parent

#: name -> (space group, lattice, species, fractional Wyckoff representatives)
DATA = {
    # Bolzan, Fong, Kennedy, Howard, Acta Cryst. B53, 373 (1997): rutile SnO2
    "SnO2": (136, Lattice.tetragonal(4.7374, 3.1864), ["Sn", "O"], [[0, 0, 0], [0.3056, 0.3056, 0]]),
    # Fleet, Acta Cryst. B37, 917 (1981): magnetite, inverse spinel; origin choice 1 (-43m):
    # Fe(tet) 8a, Fe(oct) 16d, O 32e x = 0.2549 + 1/8
    "Fe3O4": (227, Lattice.cubic(8.3941), ["Fe", "Fe", "O"],
              [[0, 0, 0], [0.625, 0.625, 0.625], [0.3799, 0.3799, 0.3799]]),
    # rock salt LiF, a = 4.0263 Å (Wyckoff, Crystal Structures Vol. 1, 1963)
    "LiF": (225, Lattice.cubic(4.0263), ["Li", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    # Levien, Prewitt, Weidner, Am. Mineral. 65, 920 (1980): alpha-quartz P3_221; origin shifted by
    # c/6 to pymatgen's setting of P3_221 (checked: Si–O 1.605/1.614 Å, 2.646 g/cm³)
    "SiO2": (154, Lattice.hexagonal(4.9160, 5.4054), ["Si", "O"],
             [[0.4697, 0, 1 / 6], [0.4135, 0.2669, 0.1191 + 1 / 6]]),
    # 3C-SiC zinc blende, a = 4.3596 Å (Landolt–Börnstein III/41A1, SiC lattice parameters)
    "SiC_3C": (216, Lattice.cubic(4.3596), ["Si", "C"], [[0, 0, 0], [0.25, 0.25, 0.25]]),
    # 4H-SiC, P6_3mc, a = 3.0730 Å, c = 10.053 Å (Landolt–Börnstein III/41A1), ideal tetrahedral
    # positions (ABCB stacking)
    "SiC_4H": (186, Lattice.hexagonal(3.0730, 10.053), ["Si", "Si", "C", "C"],
               [[0, 0, 0], [1 / 3, 2 / 3, 0.25], [0, 0, 0.1875], [1 / 3, 2 / 3, 0.4375]]),
    # Li15Si4, I-43d (Cu15Si4 type), a = 10.6852 Å: Obrovac & Christensen, Electrochem. Solid-State
    # Lett. 7, A93 (2004); positions: Zeilinger & Fässler, Dalton Trans. 43, 14959 (2014)
    "Li15Si4": (220, Lattice.cubic(10.6852), ["Si", "Li", "Li"],
                [[0.4584, 0.4584, 0.4584], [0.375, 0, 0.25], [0.1196, 0.1595, 0.9612]]),
    # beta-Sn (white tin), I4_1/amd, a = 5.8318 Å, c = 3.1819 Å (Wyckoff 1963), Sn 4a
    "Sn": (141, Lattice.tetragonal(5.8318, 3.1819), ["Sn"], [[0, 0, 0]]),
}


def build(name: str) -> Structure:
    """The conventional cell of one entry of :data:`DATA`."""
    sg, lattice, species, coords = DATA[name]
    return Structure.from_spacegroup(sg, lattice, species, coords)


if __name__ == "__main__":
    for name in DATA:
        s = build(name)
        CifWriter(s, symprec=0.01).write_file(HERE / f"{name}.cif")
        print(f"{name}: {s.composition.formula}, {s.get_space_group_info()}, {s.density:.3f} g/cm3")
