"""The provenance block every result document carries."""

import platform
import socket
from datetime import datetime, timezone

from pydantic import BaseModel, Field

from contactflow import __version__


def utcnow() -> datetime:
    """Timezone-aware now (UTC)."""
    return datetime.now(timezone.utc)


class Provenance(BaseModel):
    """Who, what and when produced a document."""

    contactflow_version: str = Field(__version__, description="contactflow version that wrote the document")
    code_versions: dict[str, str] = Field(
        default_factory=dict, description="versions of the packages that computed it (ase, torch, chgnet …)"
    )
    engine: str | None = Field(None, description="canonical engine spec, e.g. 'chgnet+d3'")
    device: str | None = Field(None, description="device the engine ran on: cpu or cuda")
    model_hash: str | None = Field(None, description="sha256 prefix of the model weights file")
    host: str = Field(default_factory=socket.gethostname, description="host name that ran the job")
    python: str = Field(default_factory=platform.python_version, description="Python version")
    started_at: datetime | None = Field(None, description="UTC start time of the calculation")
    finished_at: datetime | None = Field(None, description="UTC end time of the calculation")
    wall_time_s: float | None = Field(None, description="wall-clock time of the calculation, s")
    estimated_wall_time_s: float | None = Field(
        None, description="cost estimated before the job started: evaluations × time per evaluation measured on "
                          "this device, s (compare with wall_time_s)")
    job_budget_s: float | None = Field(None, description="budget the estimate was compared with, s "
                                                          "(CONTACTFLOW_JOB_BUDGET_S)")
    time_per_evaluation_s: float | None = Field(
        None, description="wall time of one engine evaluation of the job's structure, measured on this device, s")
    computed_properties: list[str] | None = Field(
        None, description="what the engine computed for the job (energy, forces, stress, magmoms): only what it used")
    n_evaluations: int | None = Field(None, description="engine evaluations the job made (structures evaluated)")
    job_uuid: str | None = Field(None, description="jobflow job uuid")
    flow_uuid: str | None = Field(None, description="jobflow flow (host) uuid, when run inside a flow")

    @classmethod
    def from_engine_info(cls, info, **kwargs) -> "Provenance":
        """Build from :class:`contactflow.engines.EngineInfo` plus timing/uuid keyword fields."""
        return cls(
            code_versions=dict(info.versions),
            engine=info.spec,
            device=info.device,
            model_hash=info.model_hash,
            **kwargs,
        )
