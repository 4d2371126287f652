"""A seeded toy screening problem with a known Pareto front: Branin–Currin (botorch's negated form,
reference point [-18, -6], maximum hypervolume 59.36) on two rGO recipe fields, plus a choice
variable and failures, evaluated by a synthetic evaluator (no calculator, no structure)."""

import torch
from botorch.test_functions.multi_objective import BraninCurrin

from contactflow.screening import space_from_mapping

BC = BraninCurrin(negate=True).to(torch.float64)
MAX_HV = float(BC.max_hv)

RECIPE = {
    "name": "toy_rgo",
    "film": {"structure": "Si", "miller": [1, 1, 1], "layers": 1},
    "substrate": {"builder": "rgo", "o_to_c": 0.1, "groups": ["hydroxyl", "epoxy"], "seed": 1},
}


def toy_space(**over) -> dict:
    data = {
        "name": "toy",
        "recipe": RECIPE,
        "variables": [
            {"name": "o_to_c", "path": "substrate.o_to_c", "low": 0.0, "high": 0.5},
            {"name": "a", "path": "substrate.a_A", "low": 2.3, "high": 2.6},
        ],
        "objectives": [
            {"field": "adhesion.w_sep_J_per_m2", "direction": "maximize", "reference": -18.0},
            {"field": "descriptors.contact_area_fraction", "direction": "maximize", "reference": -6.0},
        ],
        "surrogate": {"initial": 6, "pool": 256, "mc_samples": 32},  # 2(d+1) Sobol starts
    }
    data.update(over)
    return data


def toy(**over):
    return space_from_mapping(toy_space(**over), "toy")


def unit(recipe) -> tuple[float, float]:
    s = recipe.substrate
    return s.o_to_c / 0.5, (s.a_A - 2.3) / 0.3


class ToyEvaluator:
    """Branin–Currin values as adhesion / descriptor documents; optional failure region and call log."""

    def __init__(self, fail=None, log=None, interrupt_after=None):
        self.fail, self.log, self.calls = fail, log, []
        self.interrupt_after = interrupt_after

    def docs(self, recipe) -> dict:
        x = unit(recipe)
        y = BC(torch.tensor([x]))[0].tolist()
        state = "failed" if self.fail and self.fail(x, recipe) else "successful"
        iid = "if-" + recipe.recipe_hash[3:]
        ad = {"doc_key": "ad-" + iid, "interface_id": iid, "state": state,
              "w_sep_J_per_m2": None if state == "failed" else y[0],
              "failure_reason": "synthetic failure" if state == "failed" else None}
        de = {"doc_key": "de-" + iid, "interface_id": iid, "state": "successful", "contact_area_fraction": y[1]}
        return {"adhesion": [ad], "descriptors": [de]}

    def evaluate(self, recipes):
        for i, r in enumerate(recipes):
            if self.interrupt_after is not None and len(self.calls) >= self.interrupt_after:
                raise KeyboardInterrupt("killed mid-batch")
            self.calls.append(r.recipe_hash)
            if self.log:
                with open(self.log, "a") as fh:
                    fh.write(r.recipe_hash + "\n")
            yield i, self.docs(r)
