"""Recipes: ``InterfaceRecipe`` models, loaded from ``workflows/*.yaml`` or registered by plugins."""

from contactflow.recipes.loader import available_recipes, load_recipe
from contactflow.recipes.model import InterfaceRecipe, MatchSpec, SlabSpec

__all__ = ["InterfaceRecipe", "MatchSpec", "SlabSpec", "available_recipes", "load_recipe"]
