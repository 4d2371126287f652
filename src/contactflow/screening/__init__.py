"""Screening interface designs: spaces over recipe fields, a GP surrogate, constrained multi-objective
acquisition and the Pareto set (issue 18). Sits below :mod:`contactflow.api`, which supplies the
evaluator that runs recipe variants through the normal pipeline."""

from contactflow.screening.loop import Evaluator, Screen, feasible, read_outcome, run_screen
from contactflow.screening.space import (
    ScreeningSpace, ScreeningSpaceError, check_space, load_space, recipe_for, space_from_mapping,
)

__all__ = ["Evaluator", "Screen", "ScreeningSpace", "ScreeningSpaceError", "check_space", "feasible", "load_space",
           "read_outcome", "recipe_for", "run_screen", "space_from_mapping"]
