"""Two example recipes contributed by a third-party package.

``sno2_n_graphene`` returns a plain mapping (exactly what a YAML file would hold);
``si_lithiated_graphite`` builds the pydantic model itself. contactflow validates both the same way.
"""

from contactflow.recipes import InterfaceRecipe


def sno2_n_graphene() -> dict:
    """Rutile SnO2(110) on graphitic-N-doped graphene (N/(C+N) ~ 0.03)."""
    return {
        "name": "sno2_n_graphene",
        "description": "SnO2(110) on graphitic N-doped graphene (example plugin)",
        "film": {"structure": "SnO2", "miller": [1, 1, 0], "layers": 2, "termination": 1},
        "substrate": {"builder": "n_graphene", "n_fraction": 0.03, "kind": "graphitic", "seed": 7},
        "match": {"max_strain_pct": 3.0, "max_area_A2": 250, "max_candidates": 1},
        "gap_A": 3.0,
        "engine": "chgnet+d3",
        "tasks": ["adhesion"],
    }


def si_lithiated_graphite() -> InterfaceRecipe:
    """Si(111) with Li in a quarter of its tetrahedral sites (x = 0.25) on AB graphite."""
    return InterfaceRecipe.model_validate({
        "name": "si_lithiated_graphite",
        "description": "Li0.25Si(111) on graphite (example plugin)",
        "film": {"structure": "Si", "miller": [1, 1, 1], "layers": 3, "termination": 1,
                 "lithiation": {"li_per_host": 0.25, "seed": 3}},
        "substrate": {"builder": "graphene", "layers": 3},
        "match": {"max_strain_pct": 3.0, "max_area_A2": 250, "max_candidates": 1},
    })
