"""Turn a recipe and its built candidates into one jobflow ``Flow``:

    interface (InterfaceDoc) → prepare (per engine) → property jobs (by reference to the prepared doc)

Each candidate gets one preparation per engine its tasks use; the preparation relaxes the interface
when any of its tasks wants a relaxed interface, so a relaxation is done once and reused.
"""

from dataclasses import dataclass

from jobflow import Flow

from contactflow.errors import ContactflowError
from contactflow.flows.tasks import TASKS, engine_for, resolve_auto, task

#: ``--set prepare.FIELD=VALUE`` sets fields of the preparation (registry grid, gap scan, relaxation)
PREPARE = "prepare"


@dataclass
class PlannedTask:
    """A task of a flow with its engine, why that engine, and its Maker."""

    name: str
    engine: str | None
    engine_reason: str
    maker: object


def plan_tasks(recipe, tasks: list[str] | None = None, maker_kwargs: dict | None = None) -> list[PlannedTask]:
    """The tasks of a recipe run with their engines and validated Makers (nothing is computed).

    Raises
    ------
    ContactflowError
        Unknown task, an engine that cannot do a task's physics, or a bad Maker field.
    """
    names = [task(t).name for t in (tasks or recipe.tasks)]
    kwargs = maker_kwargs or {}
    out = []
    for name in dict.fromkeys(names):
        eng, why = engine_for(name, recipe.engine, getattr(recipe, "engines", None) or {})
        out.append(PlannedTask(name, eng, why, TASKS[name].make_maker(eng, kwargs.get(name))))
    return out


def prepare_maker(engine: str, planned: list[PlannedTask], fields: dict | None = None):
    """The PrepareMaker of one engine: relaxes when a task on that engine wants a relaxed interface."""
    from contactflow.jobs.prepare import PrepareMaker

    wants = any(TASKS[p.name].relaxed and getattr(p.maker, "relax", True) for p in planned)
    fields = {"relax": wants, **(fields or {})}
    bad = sorted(set(fields) - {f for f in PrepareMaker.__dataclass_fields__ if f not in ("name", "engine")})
    if bad:
        raise ContactflowError(f"PrepareMaker has no field(s) {', '.join(bad)}; valid: "
                               f"{', '.join(f for f in PrepareMaker.__dataclass_fields__ if f not in ('name', 'engine'))}")
    return _make_prepare(engine, fields)


def _make_prepare(engine: str, fields: dict):
    from contactflow.errors import MakerFieldError
    from contactflow.jobs.prepare import PrepareMaker

    try:
        return PrepareMaker(engine=engine, **fields)
    except MakerFieldError:
        raise
    except (TypeError, ValueError) as exc:
        raise MakerFieldError(f"PrepareMaker: {exc}") from None


def recipe_flow(recipe, candidates: list, tasks: list[str] | None = None, maker_kwargs: dict | None = None) -> Flow:
    """The recipe's graph for each candidate: interface → prepare (per engine) → tasks.

    Parameters
    ----------
    recipe
        The :class:`~contactflow.recipes.InterfaceRecipe` (engine, per-task engines, tasks).
    candidates
        ``InterfaceCandidate`` objects built from it.
    tasks
        Tasks to run (default: the recipe's).
    maker_kwargs
        Maker fields per task name, e.g. ``{"adhesion": {"relax": False}, "prepare": {"registry_grid": 4}}``.
    """
    from contactflow.jobs.prepare import record_interface
    from contactflow.schemas import InterfaceDoc

    kwargs = dict(maker_kwargs or {})
    prep_fields = kwargs.pop(PREPARE, {})
    planned = plan_tasks(recipe, tasks, kwargs)
    jobs = []
    for cand in candidates:
        iid = cand.interface_id
        ij = record_interface(InterfaceDoc.from_candidate(cand, recipe.name, recipe.recipe_hash))
        ij.name = f"interface:{recipe.name}:{iid}"
        jobs.append(ij)
        by_engine = group_by_engine(resolve_planned(planned, {s.specie.symbol for s in cand.interface}, kwargs),
                                    recipe.engine)
        for eng, group in by_engine.items():
            reason = "; ".join(dict.fromkeys(p.engine_reason for p in group))
            pj = prepare_maker(eng, group, {**prep_fields, "engine_reason": reason}).make(
                ij.output.structure, iid, recipe.name)
            pj.name = f"prepare:{recipe.name}:{iid}:{eng}"
            jobs.append(pj)
            for p in group:
                j = p.maker.make(pj.output, iid, recipe.name)
                j.name = f"{p.name}:{recipe.name}:{iid}"
                jobs.append(j)
    return Flow(jobs, name=f"{recipe.name}")


def resolve_planned(planned: list[PlannedTask], symbols, maker_kwargs: dict | None = None) -> list[PlannedTask]:
    """The planned tasks with ``auto`` replaced by the engine the validation record picks for ``symbols``."""
    out = []
    for p in planned:
        if p.engine == "auto":
            eng, why = resolve_auto(p.name, symbols)
            p = PlannedTask(p.name, eng, why, TASKS[p.name].make_maker(eng, (maker_kwargs or {}).get(p.name)))
        out.append(p)
    return out


def group_by_engine(planned: list[PlannedTask], default: str) -> dict[str, list[PlannedTask]]:
    """Tasks grouped by their engine (one preparation per engine)."""
    by_engine: dict[str, list[PlannedTask]] = {}
    for p in planned:
        by_engine.setdefault(p.engine or default, []).append(p)
    return by_engine
