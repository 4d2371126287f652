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
    from contactflow.recipes import load_recipe as _load

    rec = _load(ref)
    if engine:
        rec = rec.model_copy(update={"engine": engine})
    return check_recipe(rec)


def canonical(spec: str) -> str:
    """A spec in canonical form; ``auto`` stays ``auto`` (resolved per structure when candidates are built)."""
    from contactflow.engines import parse_spec
    from contactflow.engines.auto import is_auto

    return "auto" if is_auto(spec) else parse_spec(spec).canonical


def check_recipe(rec):
    """A recipe with its engine specs checked and made canonical and its tasks checked (see :func:`load_recipe`)."""
    from contactflow.flows.tasks import task

    try:
        canon = {"engine": canonical(rec.engine),
                 "engines": {task(k).name: canonical(v) for k, v in rec.engines.items()}}
        for t in rec.tasks:
            task(t)
    except ContactflowError as exc:
        raise RecipeError(f"recipe {rec.name}: {exc}") from None
    return rec.model_copy(update=canon)


def parse_set_value(item: str) -> tuple[str, str, object]:
    """Split one ``--set TASK.FIELD=VALUE`` and read VALUE as YAML (``yaml.safe_load`` only).

    For the ``run``/``submit`` commands: every malformed item — no ``=``, no ``TASK.FIELD``, a value
    that is not YAML or that YAML cannot construct (``2026-02-30``, ``!!float x``, deep nesting) — is a
    one-line :class:`~contactflow.errors.ContactflowError`, never a traceback.

    Returns
    -------
    tuple[str, str, object]
        ``(task, field, value)``.
    """
    from contactflow.yamlsafe import load_yaml_text

    key, sep, raw = item.partition("=")
    task, dot, field = key.strip().partition(".")
    task, field = task.strip(), field.strip()
    if not sep or not dot or not task or not field:
        raise ContactflowError(f"--set {item!r}: expected TASK.FIELD=VALUE, e.g. adhesion.relax=false")
    value = load_yaml_text(raw, f"--set {item!r}: the value", ContactflowError,
                           "give a YAML scalar, list or mapping, e.g. 3, 0.05, true, [1, 2]")
    return task.replace("-", "_"), field, value


def parse_sets(items: list[str] | None, tasks: list[str]) -> dict[str, dict]:
    """``TASK.FIELD=VALUE`` strings (value read with ``yaml.safe_load``) → ``{task: {field: value}}``.

    ``prepare.FIELD=VALUE`` sets the preparation. Field names, types and ranges are checked when the
    Makers are made (:func:`plan`), before anything is built or stored.
    """
    from contactflow.flows.recipe import PREPARE
    from contactflow.flows.tasks import task

    out: dict[str, dict] = {}
    for item in items or []:
        name, fieldname, value = parse_set_value(str(item))
        if name != PREPARE:
            name = task(name).name
            if name not in tasks:
                raise ContactflowError(f"--set {item!r}: task {name!r} is not being run; tasks: {', '.join(tasks)}")
        out.setdefault(name, {})[fieldname] = value
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

    from contactflow.flows.recipe import resolve_planned

    symbols = [s.specie.symbol for s in cand.interface]
    for eng in {t.engine or p.recipe.engine for t in resolve_planned(p.tasks, set(symbols), p.maker_kwargs)}:
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
        docs = collect(p, ids, store)
        prepared = _latest(store.find("prepared", {"interface_id": {"$in": ids}}))
    finally:
        if own:
            store.close()
    return RunResult(p, ids, docs, prepared)


def collect(p: Plan, interface_ids: list[str], store) -> dict[str, list[dict]]:
    """The stored documents of each of the plan's tasks on these interfaces (newest first)."""
    from contactflow.flows.tasks import TASKS

    docs = {}
    for t in p.tasks:
        q = {"interface_id": {"$in": list(interface_ids)}}
        if t.engine and t.engine != "auto":  # auto: the engine each structure's validation record picked
            q["engine"] = t.engine
        docs[t.name] = _latest(store.find(TASKS[t.name].kind, q))
    return docs


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
           progress: Progress = _quiet, candidates: list | None = None) -> SubmitResult:
    """Build and put the same graph as :func:`run` on the FireWorks LaunchPad for workers.

    ``candidates`` are the plan's built candidates when the caller has them already (else built here).
    """
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
        cands = candidates if candidates is not None else build(p, progress)
        progress("submit", f"submitting {len(cands)} interface(s) to the LaunchPad …")
        res = submit_flow(flow(p, cands), lp, project=project, key=key, dedupe=dedupe, name=p.recipe.name,
                          metadata={"recipe": p.recipe.name, "tasks": [t.name for t in p.tasks]})
    finally:
        if own:
            store.close()
    return SubmitResult(res.workflow_id, res.fw_ids, res.categories, res.state, res.duplicate)


# ---------------------------------------------------------------------------- screening
#: FireWorks workflow states after which nothing more of the workflow runs
FINISHED_WF_STATES = ("COMPLETED", "FIZZLED", "DEFUSED", "ARCHIVED")


class PipelineEvaluator:
    """The screening loop's evaluator: each recipe variant goes through :func:`plan` → :func:`build` →
    :func:`run` (``via='local'``) or :func:`submit` + FireWorks workers (``via='fireworks'``), and its
    documents are read back from the store (see :mod:`contactflow.screening.loop`).

    ``lookup`` finds documents already stored for a variant's interfaces (a resumed campaign, or a
    design whose workflow finished while the screen was down), so nothing runs twice. Through FireWorks
    a variant is submitted with ``--dedupe``: a campaign killed after submitting waits on the workflow
    already on the LaunchPad when it resumes, and the workers never run a design twice.

    Parameters
    ----------
    space
        The :class:`~contactflow.screening.space.ScreeningSpace`.
    store
        The open :class:`~contactflow.store.ContactStore` (LaunchPad in the same database).
    via
        ``local`` (flows run in this process) or ``fireworks`` (workers elsewhere run them).
    progress
        Stage callback ``progress(stage, detail)``: one line per design submitted/run, per job.
    poll_s
        Seconds between LaunchPad polls while waiting on workers.
    project
        FireWorks project of the submitted workflows (default ``screen:NAME``).
    """

    def __init__(self, space, store, via: str = "local", progress: Progress = _quiet, poll_s: float = 5.0,
                 project: str | None = None):
        self.space, self.store, self.via, self.progress = space, store, via, progress
        self.poll_s, self.project = poll_s, project or f"screen:{space.name}"
        self._cands: dict[str, list] = {}

    def plan(self, recipe) -> Plan:
        return plan(check_recipe(recipe), self.space.task_names, None, self.space.sets, limit=1)

    def _built(self, p: Plan) -> list:
        key = p.recipe.recipe_hash
        if key not in self._cands:
            self._cands[key] = build(p)
        return self._cands[key]

    def lookup(self, recipe):
        p = self.plan(recipe)
        try:
            cands = self._built(p)
        except ContactflowError:
            return None
        docs = collect(p, [c.interface_id for c in cands], self.store)
        return docs if all(docs.values()) else None

    def evaluate(self, recipes):
        if self.via == "fireworks":
            yield from self._on_queue(recipes)
            return
        from contactflow.dispatch import run_flow_locally

        for i, rec in enumerate(recipes):
            p = self.plan(rec)
            try:
                cands = self._built(p)
            except ContactflowError as exc:  # builds nothing: a failed design (data), not a crash
                yield i, {t.name: [{"state": "failed", "failure_reason": str(exc)}] for t in p.tasks}
                continue
            self.progress("run", f"{rec.name}: {', '.join(t.name for t in p.tasks)} on {cands[0].interface_id}")
            run_flow_locally(flow(p, cands), self.store, ensure_success=False,
                             on_job=lambda j, n, name, r=rec.name: self.progress("job", f"{r}: {j}/{n} {name}"))
            yield i, collect(p, [c.interface_id for c in cands], self.store)

    def _on_queue(self, recipes):
        """Submit every variant (deduplicated), then yield each as its workflow ends (workers elsewhere)."""
        import time

        from contactflow.dispatch.fireworks import get_launchpad
        from contactflow.store.views import sync_views

        lp = get_launchpad(self.store)
        waiting = {}
        for i, rec in enumerate(recipes):
            p = self.plan(rec)
            try:
                cands = self._built(p)
            except ContactflowError as exc:
                yield i, {t.name: [{"state": "failed", "failure_reason": str(exc)}] for t in p.tasks}
                continue
            res = submit(p, self.store, project=self.project, dedupe=True, candidates=cands)
            waiting[i] = (p, cands, res.workflow_id, rec.name)
            self.progress("submit", f"{rec.name}: workflow {res.workflow_id} ({len(res.fw_ids)} jobs)"
                                    f"{' already on the LaunchPad, ' + str(res.state) if res.duplicate else ''}")
        seen: dict[int, tuple] = {}
        while waiting:
            for i, (p, cands, wf_id, rname) in list(waiting.items()):
                wf = lp.workflows.find_one({"nodes": wf_id}, {"state": 1, "fw_states": 1})
                if wf is not None:
                    states = list((wf.get("fw_states") or {}).values())
                    now = (wf.get("state"), states.count("COMPLETED"), states.count("RUNNING"))
                    if seen.get(i) != now:
                        seen[i] = now
                        self.progress("workers", f"{rname}: workflow {wf_id} {now[0]}, {now[1]}/{len(states)} jobs "
                                                 f"completed, {now[2]} running")
                active = wf is not None and any(s in ("READY", "RESERVED", "RUNNING")
                                                for s in (wf.get("fw_states") or {}).values())
                if wf is None or (wf.get("state") in FINISHED_WF_STATES and not active):  # a fizzled leaf
                    # marks the workflow FIZZLED while other branches still run: wait for those
                    sync_views(self.store)
                    del waiting[i]
                    yield i, collect(p, [c.interface_id for c in cands], self.store)
            if waiting:
                time.sleep(self.poll_s)


def screen(space, store=None, *, budget: int, batch: int = 1, via: str = "local", seed: int = 0,
           name: str | None = None, progress: Progress = _quiet, strategy: str = "bo", poll_s: float = 5.0,
           on_eval: Callable[[int, int, str], None] | None = None):
    """Run or resume a screening campaign over ``space`` (path, shipped name or ``ScreeningSpace``)
    through this pipeline; returns the campaign's ``ScreeningDoc``.

    Every check (space file, recipe fields, objective fields, engines, ``sets``) runs before anything is
    built or stored. With ``via='fireworks'`` each batch is submitted to the LaunchPad and evaluated by
    ``contactflow worker`` processes (``poll_s``: seconds between LaunchPad polls); ``on_eval(done,
    budget, description)`` is called as evaluations are recorded (a progress bar's hook).
    """
    from contactflow.screening import load_space, run_screen
    from contactflow.screening.space import base_recipe
    from contactflow.store import open_store

    if via not in ("local", "fireworks"):
        raise ContactflowError(f"unknown --via {via!r}; valid: local, fireworks")
    if poll_s <= 0:
        raise ContactflowError(f"--poll must be > 0 s, got {poll_s}")
    sp = load_space(space) if isinstance(space, str) or hasattr(space, "is_file") else space
    own = store is None
    store = store or open_store()
    try:
        ev = PipelineEvaluator(sp, store, via, progress, poll_s=poll_s)
        ev.plan(base_recipe(sp))  # engines, tasks and Maker settings checked before anything runs
        if via == "fireworks":
            from contactflow.dispatch.fireworks import get_launchpad

            get_launchpad(store)  # an unusable LaunchPad fails here, before any design is built
        return run_screen(sp, ev, store, budget=budget, batch=batch, seed=seed, name=name, via=via,
                          strategy=strategy, progress=lambda line: progress("screen", line), on_eval=on_eval)
    finally:
        if own:
            store.close()
