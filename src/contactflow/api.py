"""The one pipeline every CLI command calls: load → build → flow → run (local) or submit (FireWorks).

``run`` and ``submit --via fireworks`` build the same graph from the same inputs (so the same
documents, keyed by the same hashes, come out either way); the CLI only parses, calls these and
prints. Usable from a notebook::

    from contactflow import api
    plan = api.plan("si_graphite", tasks=["adhesion", "traction_separation"])
    result = api.run(plan)
    result.documents["adhesion"][0]["w_sep_J_per_m2"]
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import yaml

from contactflow.errors import ContactflowError, RecipeError

#: a stage callback: ``progress(stage, detail)``
Progress = Callable[[str, str], None]


def _quiet(stage: str, detail: str) -> None:
    return None


@dataclass
class Plan:
    """A validated request: recipe, tasks with engines and Makers, Maker fields, candidate limit."""

    recipe: object
    tasks: list
    maker_kwargs: dict = field(default_factory=dict)
    limit: int | None = 1

    @property
    def engines(self) -> dict[str, str | None]:
        """Engine of each task."""
        return {t.name: t.engine for t in self.tasks}


@dataclass
class RunResult:
    """What a local run produced: the built interfaces and the documents of each task."""

    plan: Plan
    interface_ids: list[str]
    documents: dict[str, list[dict]]
    prepared: list[dict]

    @property
    def failed(self) -> list[dict]:
        """Documents that are not ``successful`` (failed, unbound, suspect)."""
        return [d for docs in self.documents.values() for d in docs if d.get("state") not in (None, "successful")]


def load_recipe(ref, engine: str | None = None):
    """A recipe by name or path, with every engine spec checked against the engine registry and every
    task against the task registry (``engine`` replaces the recipe's default engine)."""
    from contactflow.engines import parse_spec
    from contactflow.flows.tasks import task
    from contactflow.recipes import load_recipe as _load

    rec = _load(ref)
    if engine:
        rec = rec.model_copy(update={"engine": engine})
    try:
        specs = {"engine": rec.engine, **{f"engines.{k}": v for k, v in rec.engines.items()}}
        for where, spec in specs.items():
            parse_spec(spec)
        canon = {"engine": parse_spec(rec.engine).canonical,
                 "engines": {task(k).name: parse_spec(v).canonical for k, v in rec.engines.items()}}
        for t in rec.tasks:
            task(t)
    except ContactflowError as exc:
        raise RecipeError(f"recipe {rec.name}: {exc}") from None
    return rec.model_copy(update=canon)


def parse_sets(items: list[str] | None, tasks: list[str]) -> dict[str, dict]:
    """``TASK.FIELD=VALUE`` strings (value read with ``yaml.safe_load``) → ``{task: {field: value}}``.

    ``prepare.FIELD=VALUE`` sets the preparation. Field names, types and ranges are checked when the
    Makers are made (:func:`plan`), before anything is built or stored.
    """
    from contactflow.flows.recipe import PREPARE
    from contactflow.flows.tasks import task

    out: dict[str, dict] = {}
    for item in items or []:
        key, sep, raw = str(item).partition("=")
        name, dot, fieldname = key.strip().partition(".")
        if not sep or not dot or not fieldname.strip():
            raise ContactflowError(f"--set {item!r}: expected TASK.FIELD=VALUE, e.g. adhesion.relax=false")
        if name != PREPARE:
            name = task(name).name
            if name not in tasks:
                raise ContactflowError(f"--set {item!r}: task {name!r} is not being run; tasks: {', '.join(tasks)}")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ContactflowError(f"--set {item!r}: value {raw!r} is not valid YAML") from None
        out.setdefault(name, {})[fieldname.strip()] = value
    return out


def plan(recipe, tasks: list[str] | None = None, engine: str | None = None, sets: list[str] | None = None,
         limit: int | None = 1) -> Plan:
    """Validate a request without computing anything (bad input raises the one-line error here).

    Parameters
    ----------
    recipe
        Recipe name, YAML path or :class:`~contactflow.recipes.InterfaceRecipe`.
    tasks
        Task names (default: the recipe's).
    engine
        Default engine override.
    sets
        ``TASK.FIELD=VALUE`` strings.
    limit
        Candidates to run (smallest area first; ``None``: all).
    """
    from contactflow.flows.recipe import PREPARE, plan_tasks, prepare_maker
    from contactflow.flows.tasks import task

    rec = load_recipe(recipe, engine) if not hasattr(recipe, "build") else recipe
    names = [task(t).name for t in (tasks or rec.tasks)]
    kwargs = parse_sets(sets, names)
    planned = plan_tasks(rec, names, kwargs)
    for eng in {p.engine or rec.engine for p in planned}:  # the preparation's fields, checked now
        prepare_maker(eng, [p for p in planned if (p.engine or rec.engine) == eng], kwargs.get(PREPARE))
    return Plan(rec, planned, kwargs, limit)


def build(p: Plan, progress: Progress = _quiet) -> list:
    """Build the plan's candidates (melt–quench, if the recipe asks for it, runs with its engine)."""
    rec = p.recipe
    progress("build", f"building {rec.name} interfaces (lattice matching) …")
    cands = rec.build(quench=_quencher(rec))
    if p.limit:
        cands = cands[: p.limit]
    if not cands:
        raise ContactflowError(f"recipe {rec.name} built no interface candidates; loosen its 'match' limits")
    for c in cands:  # an engine without an element of the structure stops here, before any compute
        _check_engines(p, c)
    return cands


def _quencher(rec):
    """The melt–quench callable for amorphous sides that ask for one (``None`` otherwise)."""
    sides = [getattr(rec, s) for s in ("film", "substrate")]
    if not any(getattr(s, "melt_quench_steps", 0) for s in sides):
        return None
    from contactflow.jobs.melt_quench import quencher

    return lambda spec: quencher(spec.engine, spec.melt_quench_steps, spec.seed)


def _check_engines(p: Plan, cand) -> None:
    from contactflow.engines import check_elements

    symbols = [s.specie.symbol for s in cand.interface]
    for eng in {t.engine or p.recipe.engine for t in p.tasks}:
        check_elements(eng, symbols)


def flow(p: Plan, candidates: list):
    """The jobflow Flow of the plan (see :func:`contactflow.flows.recipe_flow`)."""
    from contactflow.flows import recipe_flow

    return recipe_flow(p.recipe, candidates, [t.name for t in p.tasks], p.maker_kwargs)


def run(p: Plan, store=None, progress: Progress = _quiet,
        on_job: Callable[[int, int, str], None] | None = None) -> RunResult:
    """Build, run the flow here (jobflow ``run_locally``), derive the typed views, return the documents.

    A failed job does not stop the others; the documents say which failed and why. ``on_job(i, n,
    name)`` is called as each job of the flow starts (for a progress bar with the time left).
    """
    from contactflow.dispatch import run_flow_locally
    from contactflow.flows.tasks import TASKS
    from contactflow.store import open_store

    cands = build(p, progress)
    own = store is None
    progress("store", "starting/connecting to the store …")
    store = store or open_store()
    try:
        f = flow(p, cands)
        progress("run", f"running {', '.join(t.name for t in p.tasks)} on {len(cands)} interface(s) "
                        f"({len(f.jobs)} jobs) …")
        run_flow_locally(f, store, ensure_success=False, on_job=on_job)
        ids = [c.interface_id for c in cands]
        docs = {}
        for t in p.tasks:
            q = {"interface_id": {"$in": ids}}
            if t.engine:
                q["engine"] = t.engine
            docs[t.name] = _latest(store.find(TASKS[t.name].kind, q))
        prepared = _latest(store.find("prepared", {"interface_id": {"$in": ids}}))
    finally:
        if own:
            store.close()
    return RunResult(p, ids, docs, prepared)


def _latest(docs: list[dict]) -> list[dict]:
    return sorted(docs, key=lambda d: str((d.get("provenance") or {}).get("finished_at") or ""), reverse=True)


@dataclass
class SubmitResult:
    """A workflow put on the LaunchPad (or found there already with ``dedupe``)."""

    workflow_id: int
    fw_ids: list
    categories: dict
    state: str | None
    duplicate: bool


def submit(p: Plan, store=None, project: str | None = None, dedupe: bool = False,
           progress: Progress = _quiet) -> SubmitResult:
    """Build and put the same graph as :func:`run` on the FireWorks LaunchPad for workers."""
    from contactflow.dispatch.fireworks import find_submitted, get_launchpad, submission_key, submit_flow
    from contactflow.store import open_store

    own = store is None
    store = store or open_store()
    try:
        lp = get_launchpad(store)
        key = submission_key(recipe_hash=p.recipe.recipe_hash, engine=p.recipe.engine,
                             engines={t.name: t.engine for t in p.tasks}, tasks=sorted(t.name for t in p.tasks),
                             maker_kwargs=p.maker_kwargs, limit=p.limit)
        old = find_submitted(lp, key) if dedupe else None
        if old:
            return SubmitResult(min(old["nodes"]), sorted(old["nodes"]), {}, old["state"], True)
        cands = build(p, progress)
        progress("submit", f"submitting {len(cands)} interface(s) to the LaunchPad …")
        res = submit_flow(flow(p, cands), lp, project=project, key=key, dedupe=dedupe, name=p.recipe.name,
                          metadata={"recipe": p.recipe.name, "tasks": [t.name for t in p.tasks]})
    finally:
        if own:
            store.close()
    return SubmitResult(res.workflow_id, res.fw_ids, res.categories, res.state, res.duplicate)
