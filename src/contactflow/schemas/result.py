"""The identifying header shared by per-interface result documents (adhesion, traction–separation …)."""

from typing import Any, Literal

from pydantic import BaseModel, Field

#: what a result's ``state`` may be: ``unbound`` (W_sep ≤ 0: nothing holds the sides together),
#: ``suspect`` (numbers computed but physically out of proportion, see ``failure_reason``) and
#: ``extrapolating`` (a committee's spread of the property exceeds its threshold: the model is outside its
#: data; ``failure_reason`` names the active-learning command) are never classified or exported as good numbers
STATES = ("successful", "failed", "unbound", "suspect", "extrapolating")
State = Literal["successful", "failed", "unbound", "suspect", "extrapolating"]


class InterfaceResultDoc(BaseModel):
    """Which interface, engine and settings a result belongs to; ``doc_key`` is their hash."""

    doc_key: str = Field(..., description="unique key: hash of (interface_id, engine, settings)")
    interface_id: str = Field(..., description="InterfaceDoc this result belongs to")
    recipe_name: str | None = Field(None, description="recipe that built the interface")
    system: str | None = Field(None, description="film/substrate formulas, e.g. 'Si/C'")
    engine: str = Field(..., description="canonical engine spec")
    settings: dict[str, Any] = Field(default_factory=dict, description="calculation settings that enter doc_key")
    prepared_key: str | None = Field(
        None, description="doc_key of the PreparedInterfaceDoc whose geometry this result started from")
    engine_reason: str | None = Field(
        None, description="why this engine ran (engine: auto records the validation record it chose by)")
    uncertainty: dict[str, Any] | None = Field(
        None, description="{source: committee|validation|unvalidated, value, unit, note}: the committee's spread "
                          "of the headline number, else the validation error of this chemistry, else why none")
