"""``ActiveLearningMaker``: run a workflow with the committee, label what it disagrees on, retrain, repeat."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from jobflow import Maker

from contactflow.errors import TrainingInputError
from contactflow.jobs.base import contactflow_job, doc_key_for, make_provenance, persist, timed
from contactflow.jobs.label import DFTLabelMaker
from contactflow.jobs.train import TrainMaker
from contactflow.schemas.training import ActiveLearningRoundDoc

log = logging.getLogger(__name__)


@dataclass
class ActiveLearningMaker(Maker):
    """Active learning around one workflow until the committee agrees on everything it visits.

    Each round: run ``workflow`` (a name in :data:`WORKFLOWS`) with the current
    committee, measure the committee's per-atom force spread on every configuration it visited; if the
    largest spread is below ``threshold_eV_per_A`` stop, else label the ``n_select`` most disputed
    (distinct) configurations with DFT, retrain the committee on the grown data set and go on. Every round
    is stored as an :class:`ActiveLearningRoundDoc`.

    Parameters
    ----------
    name
        Job name.
    campaign
        Name of this campaign (rounds are keyed by it).
    workflow
        Workflow whose configurations are checked, e.g. ``si_td_hop_neb`` or ``bilayer_traction``.
    threshold_eV_per_A
        Stop when the largest per-atom committee force spread falls below this, eV/Å.
    n_select
        Configurations labelled per round.
    max_rounds
        Largest number of rounds (the last one may end unconverged; its document says so).
    device
        Device of the committee.
    label_maker
        DFT labelling step (its ``dataset`` is the one that grows).
    train_maker
        Retraining step (its ``output_dir`` is the committee that is updated).
    """

    name: str = "active_learning"
    campaign: str = "al"
    workflow: str = "si_td_hop_neb"
    threshold_eV_per_A: float = 0.05
    n_select: int = 5
    max_rounds: int = 3
    device: str = "cpu"
    label_maker: DFTLabelMaker = field(default_factory=DFTLabelMaker)
    train_maker: TrainMaker = field(default_factory=TrainMaker)

    @property
    def engine(self) -> str:
        """The DFT engine that dominates the cost; routes the job to ``cpu`` workers."""
        return self.label_maker.engine

    @contactflow_job
    def make(self) -> list[ActiveLearningRoundDoc]:
        """Run the campaign; returns the round documents."""
        return self.compute()

    def compute(self, run_workflow: Callable | None = None,
                progress: Callable[[str], None] | None = None) -> list[ActiveLearningRoundDoc]:
        """The campaign behind :meth:`make`; ``run_workflow(engine, device)`` overrides the named workflow."""
        from dataclasses import replace

        from contactflow.engines import engine_info, get_calculator
        from contactflow.mlp.active import disagreements, select

        run = run_workflow or workflow(self.workflow)
        model_dir = self.train_maker.target_dir()
        spec = f"mace:{model_dir}"
        dataset = self.label_maker.dataset
        label_maker = replace(self.label_maker, split="train")
        say = progress or (lambda msg: log.info(msg))
        rounds = []
        for r in range(self.max_rounds):
            with timed() as timer:
                calc = get_calculator(spec, self.device, ("energy", "forces"))  # the force spread
                configs = run(spec, self.device)
                spreads = disagreements(calc, configs)
                mx = max(d.max_force_std_eV_per_A for d in spreads)
                converged = mx < self.threshold_eV_per_A
                say(f"round {r}: {len(configs)} configurations, largest force spread {mx:.3f} eV/Å "
                    f"(threshold {self.threshold_eV_per_A})")
                model_key = _model_key(model_dir)
                picked, ok, bad, stop = [], 0, 0, None
                if not converged:
                    existing = label_maker._existing()
                    picked = select(spreads, configs, self.n_select, self.threshold_eV_per_A, existing)
                    if not picked:  # retraining on the same data would give the same committee (same seeds)
                        stop = (f"every configuration above the threshold is already labelled; the committee still "
                                f"disagrees (largest force spread {mx:.3f} eV/Å): train longer, a larger model, "
                                "or sample around these configurations")
                        say(f"round {r}: stopped: {stop}")
                    for i in picked:
                        configs[i].info.update(source="active_learning")
                if picked:
                    docs = label_maker.compute([configs[i] for i in picked], existing=existing)
                    ok = sum(d.state == "successful" for d in docs)
                    bad = len(docs) - ok
                    say(f"round {r}: labelled {ok} (failed {bad}); retraining")
                    mdoc = self.train_maker.compute(dataset)
                    model_key = mdoc.doc_key
            info = engine_info(spec, self.device)
            by_idx = {d.index: d for d in spreads}
            doc = ActiveLearningRoundDoc(
                doc_key=doc_key_for("al", {"campaign": self.campaign, "round": r}), campaign=self.campaign,
                round=r, dataset=dataset, model_key=model_key, n_candidates=len(configs),
                max_force_std_eV_per_A=mx,
                mean_force_std_eV_per_A=sum(d.mean_force_std_eV_per_A for d in spreads) / len(spreads),
                max_energy_std_eV_per_atom=max(d.energy_std_eV_per_atom for d in spreads),
                threshold_eV_per_A=self.threshold_eV_per_A, converged=converged, selected=len(picked),
                selected_force_std_eV_per_A=[by_idx[i].max_force_std_eV_per_A for i in picked],
                labelled_ok=ok, labelled_failed=bad, stop_reason=stop, provenance=make_provenance(info, timer),
                **_test_errors(model_dir),
            )
            persist(doc)
            rounds.append(doc)
            if converged or stop:
                break
        return rounds


def _manifest(model_dir) -> dict:
    """The committee's ``manifest.json`` (its ModelDoc), or ``{}`` before any training."""
    import json
    from pathlib import Path

    m = Path(model_dir) / "manifest.json"
    return json.loads(m.read_text()) if m.is_file() else {}


def _model_key(model_dir) -> str | None:
    return _manifest(model_dir).get("doc_key")


def _test_errors(model_dir) -> dict:
    d = _manifest(model_dir)
    return {k: d.get(k) for k in ("energy_mae_meV_per_atom", "force_mae_eV_per_A")} if d else {}


# --------------------------------------------------------------------------------------------------
# workflows an active-learning campaign can drive with the committee (name → configurations)
# --------------------------------------------------------------------------------------------------
def si_td_hop_neb(engine: str, device: str = "cpu") -> list[Atoms]:
    """Every configuration the Li Td–Hex–Td NEB in Si visits with ``engine``: the endpoint relaxations'
    frames and each band evaluation (the NEB workflow's own steps: relax, IDPP band, climbing image)."""
    from contactflow.engines import get_calculator
    from contactflow.engines.batch import BatchChooser, ImageEvaluator
    from contactflow.jobs.neb import run_climbing_neb
    from contactflow.structures.separation import interpolate_band
    from contactflow.jobs.relax import relax_fixed_cell
    from contactflow.mlp import sampling
    from contactflow.mlp.plans import si_td_hop

    seen: list[Atoms] = []

    class Recorder(ImageEvaluator):
        def _evaluate_one(self, atoms):
            seen.append(atoms.copy())
            return super()._evaluate_one(atoms)

    calc = get_calculator(engine, device, ("energy", "forces"))
    _, a, b = si_td_hop()
    ends = [relax_fixed_cell(x, calc, 0.05, 100, "BFGS").atoms for x in (a, b)]
    seen += ends
    run_climbing_neb(interpolate_band(*ends, 3), Recorder(calc), BatchChooser("sequential", device), 0.05, 150, "BFGS")
    return [sampling._tag(x, "active_learning", "Li-Si") for x in seen]


def bilayer_traction(engine: str, device: str = "cpu") -> list[Atoms]:
    """The graphene-bilayer traction–separation openings (2.6–9 Å) the W_sep comparison uses."""
    from contactflow.mlp import sampling
    from contactflow.mlp.plans import graphene_bilayer

    return sampling.traction_scan(graphene_bilayer(), [2, 3], np.linspace(2.6, 9.0, 17), system="C bilayer")


WORKFLOWS: dict[str, Callable[..., list[Atoms]]] = {"si_td_hop_neb": si_td_hop_neb, "bilayer_traction": bilayer_traction}


def workflow(name: str) -> Callable[..., list[Atoms]]:
    """An active-learning workflow by name (``ValueError`` naming the valid ones)."""
    if name not in WORKFLOWS:
        raise TrainingInputError(f"unknown active-learning workflow {name!r}; valid: {', '.join(WORKFLOWS)}")
    return WORKFLOWS[name]
