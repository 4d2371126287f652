"""The screening loop on a seeded toy problem (Branin–Currin on two rGO recipe fields, synthetic
documents, no calculator): BO beats random search at the same budget, constraints and failures are
data, an interrupted campaign resumes without re-running anything, the GP's intervals are calibrated."""

import numpy as np
import pytest
import torch

from screening_toy import BC, MAX_HV, ToyEvaluator, toy, unit
from contactflow.screening import ScreeningSpaceError, feasible, run_screen
from contactflow.screening import surrogate as sg
from contactflow.screening.pareto import hypervolume, pareto_mask


def test_hypervolume_and_pareto_mask():
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.2, 0.2]])
    assert pareto_mask(Y).tolist() == [True, True, True, False]
    assert hypervolume(Y, np.array([-1.0, -1.0])) == pytest.approx(2 + 2 - 1 + 0.25)
    assert hypervolume(np.array([[3.0]]), np.array([1.0])) == 2.0
    assert hypervolume(np.zeros((0, 2)), np.array([0.0, 0.0])) == 0.0


def test_bo_beats_random_search_at_the_same_budget():
    """Budget 20 (6 Sobol starts + 7 acquisition batches of 2), seeds 0 and 1, reference point
    [−18, −6]. Measured: BO reaches 0.80 and 0.84 of the known maximum hypervolume (59.36), random
    search 0.11 and 0.00 (seeds 0–3: BO 0.80 on average, random 0.13)."""
    bo, rnd = [], []
    for seed in (0, 1):
        for strat, out in (("bo", bo), ("random", rnd)):
            doc = run_screen(toy(), ToyEvaluator(), None, budget=20, batch=2, seed=seed, strategy=strat)
            assert len(doc.evaluations) == 20 and doc.stop_reason == "budget"
            out.append(doc.hypervolume_history[-1] / MAX_HV)
    print(f"hypervolume / max: BO {np.round(bo, 3)}, random {np.round(rnd, 3)}")
    assert all(b > r for b, r in zip(bo, rnd))
    assert np.mean(bo) > 0.7 and np.mean(bo) > 2 * np.mean(rnd)


def test_constraints_and_failures_are_data():
    """A build constraint (n_atoms ≤ 150, n_atoms = 100 + 200·o_to_c) filters proposals; a stored-field
    constraint (W_sep ≥ −60) and failed runs (o_to_c > 0.2) make evaluations infeasible, never a crash."""
    def featurizer(recipe, names):
        return {"n_atoms": 100 + 200 * recipe.substrate.o_to_c, "strain_pct": 1.0, "area_A2": 50.0,
                "von_mises_strain_pct": 1.0}

    sp = toy(constraints=[{"field": "n_atoms", "max": 150}, {"field": "adhesion.w_sep_J_per_m2", "min": -60}])
    ev = ToyEvaluator(fail=lambda x, r: r.substrate.o_to_c > 0.2)
    doc = run_screen(sp, ev, None, budget=12, batch=2, seed=3, featurizer=featurizer)
    evs = doc.evaluations
    assert len(evs) == 12 and all(e.state != "proposed" for e in evs)
    assert all(e.design["o_to_c"] <= 0.25 + 1e-9 for e in evs)          # build constraint never violated
    failed = [e for e in evs if e.state == "failed"]
    assert failed and all(e.design["o_to_c"] > 0.2 and e.reason for e in failed)
    pareto = [e for e in evs if e.index in doc.pareto]
    assert pareto and all(feasible(sp, e) for e in pareto)
    assert all(e.values["adhesion.w_sep_J_per_m2"] >= -60 for e in pareto)
    assert any(e.how == "acquisition" for e in evs) and any(e.predicted for e in evs)


def test_empty_feasible_region_is_an_error_before_anything_runs(store):
    sp = toy(constraints=[{"field": "n_atoms", "max": 10}])
    ev = ToyEvaluator()
    with pytest.raises(ScreeningSpaceError, match=r"empty feasible region: none of \d+ sampled designs .*n_atoms in \[None, 10.0\]"):
        run_screen(sp, ev, store, budget=4, featurizer=lambda r, n: {"n_atoms": 100.0})
    assert ev.calls == [] and store.find("screening") == []


def test_interrupted_campaign_resumes_without_reevaluating(store):
    # killed in the middle of the third batch (after 5 of 8 evaluations)
    first = ToyEvaluator(interrupt_after=5)
    with pytest.raises(KeyboardInterrupt):
        run_screen(toy(), first, store, budget=8, batch=2, seed=5)
    (saved,) = store.find("screening")
    states = [e["state"] for e in saved["evaluations"]]
    assert states.count("successful") == 5 and states.count("proposed") == 1
    pending = next(e["design"] for e in saved["evaluations"] if e["state"] == "proposed")
    second = ToyEvaluator()
    doc = run_screen(toy(), second, store, budget=8, batch=2, seed=5)
    assert len(second.calls) == 3 and not set(first.calls) & set(second.calls)
    assert doc.evaluations[5].design == pending and len(doc.evaluations) == 8
    assert all(e.state == "successful" for e in doc.evaluations)
    assert len({e.recipe_hash for e in doc.evaluations}) == 8
    # a rerun of a finished campaign runs nothing
    third = ToyEvaluator()
    run_screen(toy(), third, store, budget=8, batch=2)
    assert third.calls == []


def test_a_run_that_finished_before_the_kill_is_read_back_not_rerun(store):
    """Killed after a design's documents were stored but before the campaign recorded them: on resume
    ``lookup`` finds them (the pipeline evaluator reads the store) and nothing runs twice."""
    stored: dict = {}

    class Dies(ToyEvaluator):
        def evaluate(self, recipes):
            for i, r in enumerate(recipes):
                if len(self.calls) == 3:
                    self.calls.append(r.recipe_hash)
                    stored[r.recipe_hash] = self.docs(r)  # the flow finished and wrote its documents …
                    raise KeyboardInterrupt                # … and the screen died before recording them
                self.calls.append(r.recipe_hash)
                stored[r.recipe_hash] = self.docs(r)
                yield i, stored[r.recipe_hash]

    class Resumes(ToyEvaluator):
        def lookup(self, recipe):
            return stored.get(recipe.recipe_hash)

    first = Dies()
    with pytest.raises(KeyboardInterrupt):
        run_screen(toy(), first, store, budget=6, batch=2, seed=2)
    second = Resumes()
    doc = run_screen(toy(), second, store, budget=6, batch=2, seed=2)
    assert not set(first.calls) & set(second.calls)
    assert len(first.calls) + len(second.calls) == 6 and len(doc.evaluations) == 6


def test_resume_with_a_changed_space_is_refused(store):
    run_screen(toy(), ToyEvaluator(), store, budget=2, batch=2)
    with pytest.raises(ScreeningSpaceError, match="exists in the store with a different space"):
        run_screen(toy(description="changed"), ToyEvaluator(), store, budget=4)


def test_gp_intervals_are_calibrated():
    """Held-out coverage of the GP's 90 % interval on noisy Branin and Currin (50 training points, 5 %
    noise, 5 seeds × 200 held-out points each). Measured: 0.87 (Branin) and 0.83 (Currin), mean 0.85;
    the noiseless truth lies within ±2σ of the latent mean for 0.88. With 30 training points the
    intervals are slightly overconfident (0.81 and 0.78)."""
    cov90, cov2s = [], []
    for j in (0, 1):
        for seed in range(5):
            g = torch.Generator().manual_seed(seed)
            X = torch.rand(250, 2, generator=g, dtype=torch.float64)
            f = BC(X)[:, j]
            noise = 0.05 * (f.max() - f.min())
            y = f + noise * torch.randn(250, generator=g, dtype=torch.float64)
            with sg.one_thread():
                m = sg.fit_gp(X[:50].numpy(), y[:50].numpy())
                cov90.append(sg.interval_coverage(m, X[50:].numpy(), y[50:].numpy(), 0.9))
                mean, std = sg.predict(m, X[50:].numpy())
            cov2s.append(float(np.mean(np.abs(f[50:].numpy() - mean) <= 2 * std)))
    print(f"90% interval coverage {np.mean(cov90):.3f}, 2σ coverage of the truth {np.mean(cov2s):.3f}")
    assert 0.80 <= np.mean(cov90) <= 0.97
    assert np.mean(cov2s) >= 0.85
