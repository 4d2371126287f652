"""The screening loop: propose q designs → recipe variants → evaluate (the normal pipeline) → read the
documents back → update the surrogate → repeat, with the campaign state in the store after every step.

The loop does not run flows itself: an :class:`Evaluator` (built by :mod:`contactflow.api`, which sits
above this package) turns recipes into documents through the same pipeline as ``run``/``submit``.
Tests pass a synthetic one. Persistence, for "no evaluation lost or run twice":

1. proposals are written (state ``proposed``) before anything runs;
2. each evaluation is written as soon as its documents are back;
3. a resumed campaign first finishes its ``proposed`` designs, asking the evaluator to ``lookup``
   documents already in the store (a run that finished just before the kill is not run again).
"""

import json
import math
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import numpy as np

from contactflow.schemas.provenance import utcnow
from contactflow.schemas.screening import ScreeningDoc, ScreeningEvaluation
from contactflow.screening import surrogate as sg
from contactflow.screening.pareto import hypervolume, pareto_mask
from contactflow.screening.space import (
    CANDIDATE_FIELDS, ScreeningSpace, ScreeningSpaceError, base_recipe, design_name, recipe_for,
)

Docs = dict[str, list[dict]]  # task → documents of one recipe variant


class Evaluator(Protocol):
    """Turns recipe variants into stored documents."""

    def evaluate(self, recipes: list) -> Iterable[tuple[int, Docs]]:
        """Run the recipes; yield ``(position, documents per task)`` as each finishes."""

    def lookup(self, recipe) -> Docs | None:
        """Documents of every task already in the store for this recipe, else ``None``."""


def _key(design: dict) -> str:
    return json.dumps(design, sort_keys=True, default=str)


# ---------------------------------------------------------------------------- reading documents back
def read_outcome(space: ScreeningSpace, docs: Docs) -> dict:
    """State, values, doc keys and interface ids of one evaluation from its documents."""
    tasks = space.task_names
    values: dict[str, float | None] = {}
    keys: dict[str, list[str]] = {}
    ids: set[str] = set()
    state, reason = "successful", None
    rank = {"successful": 0, "suspect": 1, "unbound": 2, "failed": 3}
    for t in tasks:
        tdocs = docs.get(t) or []
        keys[t] = [d.get("doc_key") for d in tdocs if d.get("doc_key")]
        ids.update(d.get("interface_id") for d in tdocs if d.get("interface_id"))
        if not tdocs:
            state, reason = "failed", f"no {t} document came back"
    specs = [(o.field, o.where) for o in space.objectives] + [(c.field, c.where) for c in space.constraints if c.stored]
    for field, where in specs:
        t, _, f = field.partition(".")
        cand = [d for d in docs.get(t) or [] if all(d.get(k) == v for k, v in where.items())]
        for d in cand:
            s = d.get("state") or "successful"
            if rank.get(s, 3) > rank[state]:
                state, reason = s, d.get("failure_reason") or f"{t} {s}"
        vals = [d.get(f) for d in cand if sg.finite(d.get(f))]
        values[field] = float(vals[0]) if vals else None
        if not vals and state == "successful":
            state, reason = "failed", f"{field} missing from the {t} document(s)"
    return {"state": state, "reason": reason, "values": values, "doc_keys": keys, "interface_ids": sorted(ids)}


def feasible(space: ScreeningSpace, e: ScreeningEvaluation) -> bool:
    """Evaluated, successful, every objective known and every constraint met."""
    if e.state != "successful":
        return False
    if any(e.values.get(o.field) is None for o in space.objectives):
        return False
    return all(c.ok(e.values.get(c.field) if c.stored else e.features.get(c.field)) for c in space.constraints)


# ---------------------------------------------------------------------------- the campaign
class Screen:
    """One screening campaign over a space (see :func:`run_screen`)."""

    def __init__(self, space: ScreeningSpace, evaluator: Evaluator, store=None, *, name: str | None = None,
                 seed: int = 0, batch: int = 1, budget: int = 10, strategy: str = "bo", via: str = "local",
                 featurizer: Callable | None = None, progress: Callable[[str], None] | None = None,
                 on_eval: Callable[[int, int, str], None] | None = None):
        self.space, self.evaluator, self.store = space, evaluator, store
        self.strategy, self.progress = strategy, progress or (lambda line: None)
        self.on_eval = on_eval or (lambda done, budget, what: None)
        if featurizer is None:
            from contactflow.screening.features import featurize as featurizer
        self.featurizer = featurizer
        self.base = base_recipe(space)
        self.names = list(space.features)
        need = set(self.names) | {c.field for c in space.constraints if not c.stored}
        self.feature_names = sorted(need)
        name = name or space.name
        old = store.get("screening", name) if store is not None else None
        if old:
            self.doc = ScreeningDoc.model_validate(old)
            if self.doc.space_hash != space.space_hash:
                raise ScreeningSpaceError(
                    f"campaign {name!r} exists in the store with a different space ({self.doc.space_hash} ≠ "
                    f"{space.space_hash}); give --name for a new campaign")
            self.doc.budget, self.doc.batch_size, self.doc.via = budget, batch, via
        else:
            self.doc = ScreeningDoc(
                doc_key=name, name=name, space=space.model_dump(mode="json"), space_hash=space.space_hash,
                seed=seed, budget=budget, batch_size=batch, via=via, created_at=utcnow(),
                surrogate={**space.surrogate.model_dump(), "model": "botorch ModelListGP(SingleTaskGP per outcome)",
                           "inputs": [v.name for v in space.variables] + self.names, "strategy": strategy})
        self.doc.stop_reason = None
        self._feat_cache: dict[str, dict] = {}

    # -------------------------------------------------------------- persistence
    def save(self) -> None:
        self.doc.updated_at = utcnow()
        if self.store is not None:
            self.store.upsert(self.doc)

    @property
    def done(self) -> list[ScreeningEvaluation]:
        return [e for e in self.doc.evaluations if e.state != "proposed"]

    # -------------------------------------------------------------- features
    def features(self, design: dict) -> dict:
        k = _key(design)
        if k not in self._feat_cache:
            if not self.feature_names:
                self._feat_cache[k] = {}
            else:
                rec = recipe_for(self.space, design, self.base)
                self._feat_cache[k] = dict(self.featurizer(rec, self.feature_names))
        return self._feat_cache[k]

    def pre_run_ok(self, feats: dict) -> tuple[bool, str | None]:
        """Whether a design's build satisfies the candidate-field constraints."""
        if "error" in feats:
            return False, str(feats["error"])
        for c in self.space.constraints:
            if not c.stored and not c.ok(feats.get(c.field)):
                return False, f"{c.field}={feats.get(c.field)} outside [{c.min}, {c.max}]"
        return True, None

    # -------------------------------------------------------------- proposals
    def pool(self, n: int, batch_index: int) -> list[dict]:
        """``n`` designs (Sobol for BO, uniform random for the random strategy), not yet evaluated."""
        from torch.quasirandom import SobolEngine

        seed = self.doc.seed * 100003 + batch_index
        d = len(self.space.variables)
        if self.strategy == "random":
            U = np.random.default_rng(seed).random((n, d))
        else:
            U = SobolEngine(d, scramble=True, seed=seed).draw(n).numpy()
        seen = {_key(e.design) for e in self.doc.evaluations}
        out = []
        for u in U:
            design = {v.name: v.decode(float(x)) for v, x in zip(self.space.variables, u)}
            k = _key(design)
            if k not in seen:
                seen.add(k)
                out.append(design)
        return out

    def _n_useful(self) -> int:
        return sum(1 for e in self.done if any(e.values.get(o.field) is not None for o in self.space.objectives))

    def propose(self, q: int) -> list[ScreeningEvaluation]:
        batch_index = max((e.batch for e in self.doc.evaluations), default=-1) + 1
        sur = self.space.surrogate
        initial = self.strategy == "random" or self._n_useful() < max(sur.initial, 2)
        start = len(self.doc.evaluations)
        self.progress(f"batch {batch_index}: {'sampling' if initial else 'scoring'} candidate designs (each built "
                      f"to check the constraints){'' if initial else f'; surrogate fit on {len(self.done)} evaluations'} …")
        if initial:
            picks, tried = [], 0
            reasons = []
            for design in self.pool(sur.pool, batch_index):
                tried += 1
                feats = self.features(design)
                ok, why = self.pre_run_ok(feats)
                if ok:
                    picks.append((design, feats, {}))
                    if len(picks) == q:
                        break
                else:
                    reasons.append(why)
            if not picks:
                raise ScreeningSpaceError(self._empty(tried, reasons))
            how = "random" if self.strategy == "random" else "initial"
        else:
            picks = self._acquire(q, batch_index)
            how = "acquisition"
            if not picks:
                return []
        return [ScreeningEvaluation(index=start + i, batch=batch_index, how=how, design=d, features=f,
                                    predicted=p, recipe_name=design_name(self.space, start + i))
                for i, (d, f, p) in enumerate(picks)]

    def _empty(self, tried: int, reasons: list) -> str:
        cons = ", ".join(f"{c.field} in [{c.min}, {c.max}]" for c in self.space.constraints if not c.stored) or "none"
        why = f"; e.g. {reasons[0]}" if reasons else ""
        return (f"empty feasible region: none of {tried} sampled designs builds an interface that satisfies the "
                f"constraints ({cons}){why}; widen the variable ranges or the constraints")

    def _inputs(self, designs: list[dict], feats: list[dict]) -> np.ndarray:
        A = np.array([self.space.encode(d) for d in designs], float).reshape(len(designs), self.space.width)
        if self.names:
            F = np.array([[f.get(n, np.nan) for n in self.names] for f in feats], float)
            A = np.hstack([A, sg.normalise_columns(F)])
        return A

    def outcome_data(self, rows: list[ScreeningEvaluation]):
        """Training data per outcome (objectives maximised, stored constraints raw, feasibility ±1) and
        the acquisition's outcome constraints."""
        sp = self.space
        data, cons = [], []
        for o in sp.objectives:
            idx = [i for i, e in enumerate(rows) if sg.finite(e.values.get(o.field))]
            data.append(sg.OutcomeData(o.field, np.array(idx, int), np.array([o.sign * rows[i].values[o.field] for i in idx])))
        for c in sp.constraints:
            if not c.stored:
                continue
            j = next((k for k, o in enumerate(sp.objectives) if o.field == c.field), None)
            if j is None:
                idx = [i for i, e in enumerate(rows) if sg.finite(e.values.get(c.field))]
                data.append(sg.OutcomeData(c.field, np.array(idx, int), np.array([rows[i].values[c.field] for i in idx])))
                j, scale = len(data) - 1, 1.0
            else:
                scale = sp.objectives[j].sign
            cons.append(sg.OutcomeConstraint(j, scale, c.min, c.max))
        ok = np.array([1.0 if e.state == "successful" else -1.0 for e in rows])
        if (ok < 0).any() and (ok > 0).any():
            data.append(sg.OutcomeData("feasible", np.arange(len(rows)), ok))
            cons.append(sg.OutcomeConstraint(len(data) - 1, 1.0, 0.0, None))
        return data, cons

    def _acquire(self, q: int, batch_index: int):
        sp = self.space
        rows = self.done
        cands = []
        for design in self.pool(sp.surrogate.pool, batch_index):
            feats = self.features(design)
            if self.pre_run_ok(feats)[0]:
                cands.append((design, feats))
        if not cands:
            return []
        A = self._inputs([e.design for e in rows] + [d for d, _ in cands],
                         [e.features for e in rows] + [f for _, f in cands])
        Xtr, Xpool = A[: len(rows)], A[len(rows):]
        data, cons = self.outcome_data(rows)
        data = [d if len(d.rows) >= 2 else None for d in data]
        if any(d is None for d in data[: len(sp.objectives)]):
            return [(d, f, {}) for d, f in cands[:q]]
        keep = [d for d in data if d is not None]
        ref = self.ref_point()
        with sg.one_thread():
            model = sg.fit_models(Xtr, keep)
            pick = sg.select(model, Xtr, Xpool, q, len(sp.objectives), ref, cons,
                             sp.surrogate.mc_samples, seed=self.doc.seed * 7919 + batch_index)
        out = []
        for i in pick:
            pred = {}
            for k, d in enumerate(keep):
                m, s = sg.predict(model.models[k], Xpool[i: i + 1])
                sign = sp.objectives[k].sign if k < len(sp.objectives) else 1.0
                pred[d.name] = [float(sign * m[0]), float(s[0])]
            out.append((cands[i][0], cands[i][1], pred))
        return out

    # -------------------------------------------------------------- hypervolume
    def ref_point(self) -> list[float]:
        """Reference point in the maximised sense: the space's references, else fixed once from the start
        designs (worst feasible value minus 10 % of the range) and stored with the campaign."""
        if "ref_point" in self.doc.surrogate:
            return list(self.doc.surrogate["ref_point"])
        objs = self.space.objectives
        if all(o.reference is not None for o in objs):
            ref = [o.sign * o.reference for o in objs]
        else:
            Y = np.array([[o.sign * e.values[o.field] for o in objs] for e in self.done if feasible(self.space, e)])
            if len(Y) == 0:
                return [o.sign * o.reference if o.reference is not None else -math.inf for o in objs]
            lo, hi = Y.min(0), Y.max(0)
            span = np.where(hi > lo, hi - lo, np.maximum(np.abs(lo), 1.0))
            ref = [o.sign * o.reference if o.reference is not None else float(lo[k] - 0.1 * span[k])
                   for k, o in enumerate(objs)]
        self.doc.surrogate["ref_point"] = ref
        return ref

    def update_front(self) -> float:
        objs = self.space.objectives
        feas = [e for e in self.done if feasible(self.space, e)]
        Y = np.array([[o.sign * e.values[o.field] for o in objs] for e in feas]).reshape(len(feas), len(objs))
        ref = self.ref_point() if feas else None
        hv = hypervolume(Y, np.array(ref)) if feas and all(math.isfinite(r) for r in ref) else 0.0
        mask = pareto_mask(Y) if feas else np.zeros(0, bool)
        self.doc.pareto = [e.index for e, m in zip(feas, mask) if m]
        self.doc.hypervolume_history.append(hv)
        self.doc.evaluations_history.append(len(self.done))
        return hv

    # -------------------------------------------------------------- evaluation
    def evaluate(self, evs: list[ScreeningEvaluation]) -> None:
        recipes = [recipe_for(self.space, e.design, self.base, e.recipe_name) for e in evs]
        for e, r in zip(evs, recipes):
            e.recipe_hash = r.recipe_hash
        todo = []
        lookup = getattr(self.evaluator, "lookup", None)
        for i, (e, r) in enumerate(zip(evs, recipes)):
            docs = lookup(r) if lookup else None
            if docs is not None:
                self._record(e, docs, None)
            else:
                todo.append(i)
        if not todo:
            return
        t0 = time.monotonic()
        for pos, docs in self.evaluator.evaluate([recipes[i] for i in todo]):
            self._record(evs[todo[pos]], docs, time.monotonic() - t0)

    def _record(self, e: ScreeningEvaluation, docs: Docs, seconds: float | None) -> None:
        out = read_outcome(self.space, docs)
        e.state, e.reason, e.values = out["state"], out["reason"], out["values"]
        e.doc_keys, e.interface_ids, e.seconds = out["doc_keys"], out["interface_ids"], seconds
        self.save()
        self.on_eval(len(self.done), self.doc.budget, f"{e.recipe_name} {e.state}")

    # -------------------------------------------------------------- the loop
    def run(self) -> ScreeningDoc:
        budget, q = self.doc.budget, self.doc.batch_size
        pending = [e for e in self.doc.evaluations if e.state == "proposed"]
        t_start = time.monotonic()
        n_start = len(self.done)
        self.on_eval(n_start, budget, "evaluations")
        if pending:
            self.progress(f"resuming {self.doc.name}: {len(pending)} proposed design(s) not yet evaluated")
            self.evaluate(pending)
            self.update_front()
            self.save()
        stall = 0
        while len(self.doc.evaluations) < budget:
            n = min(q, budget - len(self.doc.evaluations))
            evs = self.propose(n)
            if not evs:
                self.doc.stop_reason = "no untried design satisfies the constraints"
                break
            self.doc.evaluations.extend(evs)
            self.save()
            self.progress(f"batch {evs[0].batch} ({evs[0].how}): proposed "
                          + "; ".join(f"{e.recipe_name} {_short(e.design)}" for e in evs))
            self.evaluate(evs)
            hist = self.doc.hypervolume_history
            hv = self.update_front()
            self.save()
            prev = hist[-2] if len(hist) > 1 else 0.0
            stall = stall + 1 if hv <= prev * (1 + self.space.stop.min_improvement) and prev > 0 else 0
            done = len(self.done)
            rate = (time.monotonic() - t_start) / max(done - n_start, 1)
            left = rate * (budget - done)
            bad = sum(1 for e in evs if not feasible(self.space, e))
            self.progress(f"batch {evs[0].batch} ({evs[0].how}): {done}/{budget} evaluated, "
                          f"{len(evs) - bad} feasible of {len(evs)}, hypervolume {hv:.4g}, "
                          f"Pareto set {len(self.doc.pareto)}, ~{_fmt_time(left)} left")
            if self.space.stop.patience and stall >= self.space.stop.patience:
                self.doc.stop_reason = (f"hypervolume gained < {self.space.stop.min_improvement:.0%} in "
                                        f"{stall} batch(es)")
                break
        self.doc.stop_reason = self.doc.stop_reason or "budget"
        self.save()
        return self.doc


def _short(design: dict) -> str:
    return "(" + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in design.items()) + ")"


def _fmt_time(s: float) -> str:
    return f"{s / 60:.1f} min" if s >= 90 else f"{s:.0f} s"


def run_screen(space: ScreeningSpace, evaluator: Evaluator, store=None, **kw) -> ScreeningDoc:
    """Run (or resume) a screening campaign; returns its final :class:`ScreeningDoc`.

    Keyword arguments are those of :class:`Screen` (``name``, ``seed``, ``batch``, ``budget``,
    ``strategy`` = ``bo`` | ``random``, ``via``, ``featurizer``, ``progress`` (one line per batch),
    ``on_eval`` (``(done, budget, description)`` as each evaluation is recorded)).
    """
    return Screen(space, evaluator, store, **kw).run()


__all__ = ["CANDIDATE_FIELDS", "Evaluator", "Screen", "feasible", "read_outcome", "run_screen"]
