"""Flows: Makers/functions that wire jobs into graphs for a recipe (the things users submit)."""

from contactflow.flows.recipe import recipe_flow

__all__ = ["recipe_flow"]
