"""``TrainMaker``: a MACE committee trained on a stored DFT-labelled data set, tested on its held-out split."""

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from jobflow import Maker

from contactflow.jobs.base import contactflow_job, doc_key_for, make_provenance, persist, timed
from contactflow.mlp.baseline import check_baseline, subtract_baseline, write_baseline_file
from contactflow.mlp.data import doc_to_atoms, write_extxyz, write_frames
from contactflow.schemas.training import ModelDoc, SystemErrors
from contactflow.errors import TrainingInputError

log = logging.getLogger(__name__)


TrainingDataError = TrainingInputError  # the training data cannot give the requested model

def load_labels(dataset: str, split: str | None = None, store=None) -> list[dict]:
    """Successful labelled configurations of a data set (sorted by ``doc_key``: a stable order)."""
    from contactflow.store import open_store

    filt = {"dataset": dataset, "state": "successful"}
    if split:
        filt["split"] = split
    if store is not None:
        return store.find("labels", filt, sort=[("doc_key", 1)])
    with open_store() as s:
        return s.find("labels", filt, sort=[("doc_key", 1)])


def check_training_elements(train_docs: list[dict], elements: list[str] | None) -> list[str]:
    """Elements the model will cover; raise when the data and the request disagree.

    Raises
    ------
    TrainingDataError
        If a requested element has no training configuration, or the data hold elements not requested.
    """
    have = sorted({e for d in train_docs for e in d["elements"]})
    if not train_docs:
        raise TrainingDataError("the training set holds no successful labelled configuration")
    if elements is None:
        return have
    want = sorted(set(elements))
    missing = [e for e in want if e not in have]
    if missing:
        raise TrainingDataError(
            f"training set lacks element(s) {', '.join(missing)} the model is asked to cover; "
            f"it holds {', '.join(have)} — label configurations containing them first")
    extra = [e for e in have if e not in want]
    if extra:
        raise TrainingDataError(
            f"training set holds element(s) {', '.join(extra)} not in the requested elements {', '.join(want)}; "
            "request them too or train on a data set without them")
    return want


@dataclass
class TrainMaker(Maker):
    """Train a committee of MACE models (mace-torch) on a labelled data set and test it on held-out data.

    Members differ by seed (train/validation split and initialisation); the committee's spread is the
    uncertainty the engine reports. The same seed, settings and stored data give the same models.

    Parameters
    ----------
    name
        Job name.
    model_name
        Name of the model set; its files go to ``output_dir`` (engine spec ``mace:<output_dir>``).
    output_dir
        Where the committee lands (default ``$CONTACTFLOW_HOME/models/<model_name>``).
    elements
        Elements the model must cover (default: those in the data); checked against the data first.
    n_members
        Committee size (≥ 3 for a usable spread; 1 trains a single model).
    seed
        Seed of member 0; member i uses ``seed + i``.
    epochs
        Epochs per member.
    device
        ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    threads
        Torch threads per member (default: torch's choice).
    parallel
        Members trained at the same time (each is its own process).
    store_result
        Upsert the :class:`ModelDoc` into the contactflow store.
    baseline
        Analytic term the members are trained on top of (:mod:`contactflow.mlp.baseline`): ``"d3"``
        (default; the labels are PBE-D3 and dispersion reaches past the model's cutoff) or ``None``.
        The engine adds it back, so ``mace:<output_dir>`` gives total energies either way.
    mace_kwargs
        mace_run_train options overriding :data:`contactflow.mlp.training.DEFAULT_SETTINGS`.
    """

    name: str = "train_mace"
    model_name: str = "model"
    output_dir: str | None = None
    elements: list[str] | None = None
    n_members: int = 3
    seed: int = 0
    epochs: int = 100
    device: str = "auto"
    threads: int | None = None
    parallel: int = 1
    store_result: bool = True
    baseline: str | None = "d3"
    mace_kwargs: dict = field(default_factory=dict)

    @property
    def engine(self) -> str:
        """Engine family the job trains; routes it to ``gpu`` workers on the job queue."""
        return "mace"

    def check(self) -> None:
        """Raise ``ValueError`` for settings no training can run with."""
        if self.n_members < 1:
            raise TrainingInputError(f"n_members must be ≥ 1, got {self.n_members}")
        if self.epochs < 1:
            raise TrainingInputError(f"epochs must be ≥ 1, got {self.epochs}")
        check_baseline(self.baseline)
        if not self.model_name.replace("_", "").replace("-", "").isalnum():
            raise TrainingInputError(f"model_name must be letters, digits, '-' or '_', got {self.model_name!r}")

    @contactflow_job
    def make(self, dataset: str) -> ModelDoc:
        """Train on the stored data set ``dataset`` (train split) and test on its test split."""
        return self.compute(dataset)

    def target_dir(self) -> Path:
        from contactflow.paths import contactflow_home

        return Path(self.output_dir) if self.output_dir else contactflow_home() / "models" / self.model_name

    def compute(self, dataset: str, train_docs: list[dict] | None = None, test_docs: list[dict] | None = None,
                progress: Callable[[int, int, int, float], None] | None = None,
                stage: Callable[[str, str], None] | None = None) -> ModelDoc:
        """The training behind :meth:`make`; ``progress`` gets (member, epoch, epochs, validation loss),
        ``stage`` one line per stage (data, training, held-out test) as ``(stage, detail)``."""
        from contactflow.engines import engine_info, resolve_device
        from contactflow.engines.calculators import _file_hash
        from contactflow.mlp.training import DEFAULT_SETTINGS, train_member

        stage = stage or (lambda name, detail: None)
        self.check()
        stage("data", f"loading data set {dataset!r} from the store …")
        train_docs = load_labels(dataset, "train") if train_docs is None else train_docs
        test_docs = load_labels(dataset, "test") if test_docs is None else test_docs
        elements = check_training_elements(train_docs, self.elements)
        if len(train_docs) < 10:
            raise TrainingDataError(f"training needs ≥ 10 labelled configurations, data set {dataset!r} has "
                                    f"{len(train_docs)}")
        device = resolve_device(self.device)
        out_dir = self.target_dir()
        out_dir.mkdir(parents=True, exist_ok=True)
        data_dir = out_dir / "data"
        frames = [doc_to_atoms(d) for d in train_docs]
        write_frames(frames, data_dir / "train.extxyz")
        data_hash = hashlib.sha256("".join(d["doc_key"] for d in train_docs).encode()).hexdigest()[:16]
        settings = {**DEFAULT_SETTINGS, **self.mace_kwargs}
        seeds = [self.seed + i for i in range(self.n_members)]
        stage("train", f"{len(train_docs)} train / {len(test_docs)} test configurations ({', '.join(elements)}); "
                       f"{self.n_members} member(s) × {self.epochs} epochs on {device}, {max(1, self.parallel)} at a time …")
        files: list[str] = []
        with timed() as timer:
            work = out_dir / "work"
            target = work / "train_target.extxyz"  # what the members fit: DFT − baseline
            write_frames(subtract_baseline(frames, self.baseline), target)

            def one(i: int, s: int):
                cb = (lambda e, n, loss: progress(i, e, n, loss)) if progress else None
                return train_member(target, work / f"member_{i}", f"{self.model_name}_{i}", s,
                                    self.epochs, device, settings, self.threads, cb)

            with ThreadPoolExecutor(max_workers=max(1, self.parallel)) as pool:  # each member is a process
                members = list(pool.map(one, range(len(seeds)), seeds))
            for m in list(out_dir.glob("member_*.model")):
                m.unlink()  # never mix members of two trainings (old ones stay until the new ones exist)
            for i, r in enumerate(members):
                dest = out_dir / f"member_{i}.model"
                shutil.copy2(r.model_path, dest)
                files.append(dest.name)
            write_baseline_file(out_dir, self.baseline)
            shutil.rmtree(work, ignore_errors=True)
        stage("test", f"trained in {timer.wall_time_s:.0f} s; held-out errors on {len(test_docs)} configurations …")
        info = engine_info(f"mace:{out_dir}", device)
        doc = ModelDoc(
            doc_key=doc_key_for("md", {"name": self.model_name, "data": data_hash, "settings": settings,
                                       "seeds": seeds, "epochs": self.epochs, "baseline": self.baseline}),
            name=self.model_name, model_dir=str(out_dir), dataset=dataset, elements=elements, state="successful",
            n_members=self.n_members, seeds=seeds, member_files=files,
            member_hashes=[_file_hash(out_dir / f) for f in files], n_train=len(train_docs), n_test=len(test_docs),
            data_hash=data_hash, settings=settings, baseline=self.baseline, epochs=self.epochs,
            train_time_s=timer.wall_time_s,
            time_per_epoch_s=sum(r.wall_time_s for r in members) / max(1, sum(r.epochs for r in members)),
            device=device, loss_history=[r.loss_history for r in members], provenance=make_provenance(info, timer),
        )
        return self.evaluate(doc, test_docs)

    def evaluate(self, doc: ModelDoc, test_docs: list[dict]) -> ModelDoc:
        """Held-out errors per system of a trained committee; writes ``manifest.json`` and stores the doc.

        Also callable on its own, e.g. when the test split was labelled while the committee trained.
        """
        from contactflow.engines import get_calculator
        from contactflow.mlp.metrics import errors_by_system, predict

        out_dir = Path(doc.model_dir)
        update: dict = {"n_test": len(test_docs)}
        if test_docs:
            write_extxyz(test_docs, out_dir / "data" / "test.extxyz")
            preds = predict(get_calculator(f"mace:{out_dir}", doc.device), [doc_to_atoms(d) for d in test_docs])
            by_sys = errors_by_system(preds)
            summary = by_sys.pop("all")
            update.update(test_errors=[SystemErrors(system=k, **v) for k, v in by_sys.items()],
                          energy_mae_meV_per_atom=summary["energy_mae_meV_per_atom"],
                          force_mae_eV_per_A=summary["force_mae_eV_per_A"],
                          uncertainty_force_error_spearman=summary["uncertainty_force_error_spearman"])
        doc = doc.model_copy(update=update)
        (out_dir / "manifest.json").write_text(json.dumps(doc.model_dump(mode="json"), indent=1))
        if doc.n_test:
            from contactflow.mlp.card import model_card

            notes = out_dir / "NOTES.md"  # hand-written intended use, limits and comparisons, if any
            (out_dir / "MODEL_CARD.md").write_text(model_card(out_dir, notes.read_text() if notes.is_file() else ""))
        if self.store_result:
            persist(doc)
        log.info("trained %s: %d members; test energy MAE %s meV/atom, force MAE %s eV/Å", doc.name, doc.n_members,
                 doc.energy_mae_meV_per_atom, doc.force_mae_eV_per_A)
        return doc
