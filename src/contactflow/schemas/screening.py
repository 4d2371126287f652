"""ScreeningDoc: the state of one screening campaign (space, proposals, evaluations, hypervolume).

It is written by the screening loop after every proposal and every evaluation (like the training
kinds, it is not a job output), so a killed ``contactflow screen`` resumes from it: evaluated
designs are never run again, proposed-but-unevaluated ones are looked up in the store first.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from contactflow.schemas.provenance import Provenance

EvalState = Literal["proposed", "successful", "failed", "unbound", "suspect", "infeasible"]


class ScreeningEvaluation(BaseModel):
    """One proposed design and, once evaluated, what came back."""

    index: int = Field(..., description="0-based evaluation number in the campaign")
    batch: int = Field(..., description="batch (acquisition round) that proposed it")
    how: Literal["initial", "acquisition", "random"] = Field(..., description="Sobol start design, acquisition or random")
    design: dict[str, Any] = Field(..., description="design variable name → value")
    recipe_name: str = Field(..., description="name of the recipe variant")
    recipe_hash: str | None = Field(None, description="building hash of the recipe variant")
    features: dict[str, float] = Field(default_factory=dict, description="cheap descriptors of the built structure")
    predicted: dict[str, list[float]] = Field(
        default_factory=dict, description="surrogate mean and std of each outcome at proposal time")
    state: EvalState = Field("proposed", description="'proposed' until evaluated; failed/unbound/infeasible are data")
    reason: str | None = Field(None, description="why a design is not feasible")
    values: dict[str, float | None] = Field(default_factory=dict, description="objective and constraint fields read back")
    doc_keys: dict[str, list[str]] = Field(default_factory=dict, description="task → doc_key(s) the values came from")
    interface_ids: list[str] = Field(default_factory=list, description="interfaces evaluated")
    seconds: float | None = Field(None, description="wall time of the evaluation batch per design, s")


class ScreeningDoc(BaseModel):
    """One screening campaign."""

    doc_key: str = Field(..., description="unique key: the campaign name")
    name: str = Field(..., description="campaign name (the space file's name unless given)")
    space: dict[str, Any] = Field(..., description="the validated screening space")
    space_hash: str = Field(..., description="hash of the space: a resumed campaign must have the same one")
    seed: int = Field(0, description="random seed of the start designs and the acquisition")
    budget: int = Field(..., description="evaluations requested (last call)")
    batch_size: int = Field(..., description="designs proposed per batch")
    via: str = Field("local", description="local or fireworks")
    surrogate: dict[str, Any] = Field(default_factory=dict, description="surrogate and acquisition settings")
    evaluations: list[ScreeningEvaluation] = Field(default_factory=list)
    hypervolume_history: list[float] = Field(default_factory=list, description="hypervolume after each evaluated batch")
    evaluations_history: list[int] = Field(default_factory=list, description="evaluations done at each hypervolume entry")
    pareto: list[int] = Field(default_factory=list, description="indices of the Pareto-optimal feasible evaluations")
    stop_reason: str | None = Field(None, description="budget, stopping rule or None while running")
    created_at: datetime | None = Field(None)
    updated_at: datetime | None = Field(None)
    provenance: Provenance = Field(default_factory=Provenance, description="code versions, host")
