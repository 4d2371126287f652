"""The identifying header shared by per-interface result documents (adhesion, traction–separation)."""

from typing import Any

from pydantic import BaseModel, Field


class InterfaceResultDoc(BaseModel):
    """Which interface, engine and settings a result belongs to; ``doc_key`` is their hash."""

    doc_key: str = Field(..., description="unique key: hash of (interface_id, engine, settings)")
    interface_id: str = Field(..., description="InterfaceDoc this result belongs to")
    recipe_name: str | None = Field(None, description="recipe that built the interface")
    system: str | None = Field(None, description="film/substrate formulas, e.g. 'Si/C'")
    engine: str = Field(..., description="canonical engine spec")
    settings: dict[str, Any] = Field(default_factory=dict, description="calculation settings that enter doc_key")
