"""Turn a recipe and its built candidates into one jobflow ``Flow``."""

from jobflow import Flow

from contactflow.jobs.adhesion import AdhesionMaker
from contactflow.jobs.descriptors import DescriptorMaker
from contactflow.jobs.diffusion import DiffusionMaker
from contactflow.jobs.li_sites import InterfaceLiAdsorptionMaker
from contactflow.jobs.lithiation import LithiationMaker
from contactflow.jobs.neb import InterfaceNEBMaker
from contactflow.jobs.pull_off import PullOffMaker
from contactflow.jobs.traction import TractionSeparationMaker
from contactflow.recipes import InterfaceRecipe

TASK_MAKERS = {"adhesion": AdhesionMaker, "neb": InterfaceNEBMaker, "li_adsorption": InterfaceLiAdsorptionMaker, "traction_separation": TractionSeparationMaker,
               "pull_off": PullOffMaker, "lithiation": LithiationMaker, "diffusion": DiffusionMaker,
               "descriptors": DescriptorMaker}


def recipe_flow(recipe: InterfaceRecipe, candidates: list, tasks: list[str] | None = None,
                maker_kwargs: dict | None = None) -> Flow:
    """One job per (candidate, task), all with the recipe's engine.

    Parameters
    ----------
    recipe
        The recipe (engine and default tasks).
    candidates
        ``InterfaceCandidate`` objects built from it.
    tasks
        Tasks to run (default: the recipe's).
    maker_kwargs
        Extra Maker fields per task name, e.g. ``{"adhesion": {"relax": False}}``.
    """
    jobs = []
    for task in tasks or recipe.tasks:
        maker = TASK_MAKERS[task](engine=recipe.engine, **(maker_kwargs or {}).get(task, {}))
        for cand in candidates:
            j = maker.make(cand.interface, cand.interface_id, recipe.name)
            j.name = f"{task}:{recipe.name}:{cand.interface_id}"
            jobs.append(j)
    return Flow(jobs, name=f"{recipe.name}")
