"""Gaussian-process surrogate (botorch ``SingleTaskGP`` per outcome in a ``ModelListGP``) and the
constrained multi-objective acquisition (``qLogNoisyExpectedHypervolumeImprovement``; one objective:
``qLogNoisyExpectedImprovement``), optimised over a discrete pool of valid designs.

Inputs are the design variables in [0, 1] (one-hot for choices) plus the normalised cheap
descriptors of each design's built structure. Each outcome has its own training set: an objective
is trained where its value was read back, the feasibility outcome (+1 evaluated, −1 failed/unbound)
on every evaluation. Everything is in double precision; outcomes are standardised
(``Standardize``) and the GP hyperparameters fitted by marginal likelihood (``fit_gpytorch_mll``).
"""

import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

#: z of the two-sided 90 % interval
Z90 = 1.6448536269514722


@contextmanager
def one_thread():
    """Run torch on one thread: the models are tiny, and on a shared machine thread start-up dominates
    (measured: a 4-batch toy screen 13.5 s with the default threads, 2.7 s with one). Restored after,
    so an engine running in the same process keeps its threads."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def fit_gp(X: np.ndarray, y: np.ndarray):
    """A ``SingleTaskGP`` (Matern-5/2 ARD, inferred noise, standardised outcome) fitted to (X, y)."""
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    tx = torch.as_tensor(np.asarray(X, float), dtype=torch.float64)  # double precision, as botorch advises
    ty = torch.as_tensor(np.asarray(y, float), dtype=torch.float64).reshape(-1, 1)
    model = SingleTaskGP(tx, ty, outcome_transform=Standardize(m=1))
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit_gpytorch_mll(mll)
        except Exception:  # noqa: BLE001 - a failed hyperparameter fit keeps the priors' mode (still a valid GP)
            pass
    model.eval()
    return model


def predict(model, X: np.ndarray, observation_noise: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation of one fitted GP at X (original units)."""
    with torch.no_grad():
        post = model.posterior(torch.as_tensor(np.asarray(X, float), dtype=torch.float64),
                               observation_noise=observation_noise)
        mean = post.mean.squeeze(-1).numpy()
        std = post.variance.clamp_min(0).sqrt().squeeze(-1).numpy()
    return mean, std


def interval_coverage(model, X: np.ndarray, y_true: np.ndarray, level: float = 0.9,
                      observation_noise: bool = True) -> float:
    """Fraction of held-out values inside the model's central ``level`` interval."""
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    mean, std = predict(model, X, observation_noise)
    return float(np.mean(np.abs(np.asarray(y_true) - mean) <= z * std))


@dataclass
class OutcomeData:
    """Training data of one outcome: the rows of X where it is known and its values (maximised sense
    for objectives)."""

    name: str
    rows: np.ndarray
    y: np.ndarray


@dataclass
class OutcomeConstraint:
    """``lo <= scale × Y[j] <= hi`` (either bound may be None)."""

    j: int
    scale: float = 1.0
    lo: float | None = None
    hi: float | None = None

    def callables(self) -> list:
        out = []
        j, s = self.j, self.scale
        if self.lo is not None:
            lo = self.lo
            out.append(lambda Z, j=j, s=s, lo=lo: lo - s * Z[..., j])
        if self.hi is not None:
            hi = self.hi
            out.append(lambda Z, j=j, s=s, hi=hi: s * Z[..., j] - hi)
        return out


def fit_models(X: np.ndarray, outcomes: list[OutcomeData]):
    """A ``ModelListGP`` with one ``SingleTaskGP`` per outcome (each on its own rows)."""
    from botorch.models import ModelListGP

    return ModelListGP(*[fit_gp(X[o.rows], o.y) for o in outcomes])


def select(model, X_baseline: np.ndarray, pool: np.ndarray, q: int, n_objectives: int, ref_point: list[float],
           constraints: list[OutcomeConstraint], mc_samples: int = 64, seed: int = 0) -> list[int]:
    """Indices of ``q`` pool rows chosen greedily (sequential, with pending points) by the acquisition.

    Outcomes ``0 … n_objectives−1`` of ``model`` are the objectives (maximised); the rest are only
    constrained.
    """
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
    from botorch.acquisition.objective import GenericMCObjective
    from botorch.optim import optimize_acqf_discrete
    from botorch.sampling import SobolQMCNormalSampler

    torch.manual_seed(seed)
    cons = [c for oc in constraints for c in oc.callables()] or None
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed)
    Xb = torch.as_tensor(X_baseline, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if n_objectives >= 2:
            acq = qLogNoisyExpectedHypervolumeImprovement(
                model=model, ref_point=list(ref_point), X_baseline=Xb, sampler=sampler,
                objective=IdentityMCMultiOutputObjective(outcomes=list(range(n_objectives))),
                constraints=cons, prune_baseline=True, cache_root=False)
        else:
            acq = qLogNoisyExpectedImprovement(
                model=model, X_baseline=Xb, sampler=sampler, objective=GenericMCObjective(lambda Z, X=None: Z[..., 0]),
                constraints=cons, prune_baseline=True, cache_root=False)
        choices = torch.as_tensor(pool, dtype=torch.float64)
        cand, _ = optimize_acqf_discrete(acq, q=min(q, len(pool)), choices=choices, unique=True, max_batch_size=256)
    out = []
    for row in cand:
        hits = torch.nonzero(torch.all(torch.isclose(choices, row), dim=-1)).flatten().tolist()
        out.append(next(h for h in hits if h not in out))
    return out


def normalise_columns(A: np.ndarray) -> np.ndarray:
    """Min–max scale each column to [0, 1] (constant columns → 0)."""
    A = np.asarray(A, float)
    if A.size == 0:
        return A
    lo, hi = np.nanmin(A, axis=0), np.nanmax(A, axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.nan_to_num((A - lo) / span)


def finite(v) -> bool:
    """A real, finite number."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
