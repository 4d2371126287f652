"""Interface-trained potentials on the command line: ``contactflow dataset …``, ``contactflow train``,
``contactflow active-learn``."""

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contactflow.cli.common import app, console, emit, err_console, fmt_cell
from contactflow.errors import ContactflowError

dataset_app = typer.Typer(help="DFT-labelled data sets: sample + label, list, export, import.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=False)


@dataset_app.command("label")
def dataset_label(
    plan: str = typer.Option("lisic", "--plan", help="Sampling plan (contactflow.mlp.plans.PLANS)."),
    dataset: str = typer.Option(None, "--dataset", help="Data set name (default: the plan's name)."),
    split: str = typer.Option("train", "--split", help="train or test (held out)."),
    engine: str = typer.Option("cp2k:pbe-d3", "--engine", help="DFT engine spec."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed."),
    stress: bool = typer.Option(False, "--stress/--no-stress", help="Also compute the stress tensor."),
    limit: int = typer.Option(0, "--limit", help="Label at most this many configurations (0: all)."),
    write_dir: Path = typer.Option(None, "--write-dir", help="After each configuration, rewrite DIR/<split>.extxyz "
                                   "from the store's successful labels (partial progress survives on disk); labels "
                                   "already in that file are loaded first and kept."),
    overrides: list[str] = typer.Option(None, "--set", help="Override a preset setting, KEY=VALUE (repeatable), e.g. "
                                        "--set mixing_alpha=0.1 --set max_scf=150 (SCF helpers; recorded per label)."),
):
    """Sample configurations from the project's workflows and label them with DFT into the store."""
    from contactflow.jobs.label import DFTLabelMaker
    from contactflow.jobs.train import load_labels
    from contactflow.mlp.data import write_extxyz
    from contactflow.mlp.plans import plan as get_plan

    import json

    sets = {}
    for item in overrides or []:
        key, sep, val = item.partition("=")
        if not sep:
            raise ContactflowError(f"--set takes KEY=VALUE, got {item!r}")
        try:
            sets[key.strip()] = json.loads(val)
        except json.JSONDecodeError:
            sets[key.strip()] = val
    maker = DFTLabelMaker(engine=engine, dataset=dataset or plan, split=split, compute_stress=stress,
                          calculator_kwargs={"overrides": sets} if sets else {})
    maker.check()
    out_file = Path(write_dir) / f"{split}.extxyz" if write_dir is not None else None
    if out_file is not None:
        # The file may hold labels this store has never seen (shipped data, another CONTACTFLOW_HOME): load
        # them first, so the labelling skips them (same doc_key / fingerprint) and the rewrite keeps them.
        from contactflow.jobs.label import import_extxyz

        if out_file.is_file() and out_file.stat().st_size:
            n_known = import_extxyz(out_file, maker.dataset, split, engine)
            err_console.print(f"{out_file}: {n_known} labelled configurations already there (kept, not relabelled)")
    configs = get_plan(plan, split, seed)
    configs.sort(key=len)
    if limit:
        configs = configs[:limit]
    with _progress() as prog:
        task = prog.add_task(f"labelling {plan}/{split}", total=None)

        def step(i: int, n: int, doc) -> None:
            prog.update(task, completed=i, total=n)
            if out_file is not None and doc.state == "successful":
                write_extxyz(load_labels(maker.dataset, split), out_file)

        docs = maker.compute(configs, progress=step)
    bad = [d for d in docs if d.state == "failed"]
    console.print(f"{len(docs) - len(bad)} labelled, {len(bad)} failed (stored as failed, never trained on), "
                  f"{len(configs) - len(docs)} duplicates skipped")


@dataset_app.command("list")
def dataset_list(dataset: str = typer.Option(None, "--dataset", help="Only this data set."),
                 fmt: str = typer.Option("table", "--format", help="table, json or csv.")):
    """Labelled configurations per data set, split, system, source and state."""
    from collections import Counter

    from contactflow.store import open_store

    with open_store() as store:
        docs = store.find("labels", {"dataset": dataset} if dataset else {},
                          projection={"dataset": 1, "split": 1, "system": 1, "source": 1, "state": 1, "n_atoms": 1})
    counts = Counter((d["dataset"], d["split"], d["system"], d["source"], d["state"]) for d in docs)
    rows = [dict(zip(("dataset", "split", "system", "source", "state"), k), n=v) for k, v in sorted(counts.items())]
    emit(rows, fmt, [("dataset", "dataset"), ("split", "split"), ("system", "system"), ("source", "source"),
                     ("state", "state"), ("n", "configs")], "Labelled configurations")


@dataset_app.command("export")
def dataset_export(dataset: str = typer.Argument(..., help="Data set name."),
                   out: Path = typer.Argument(..., help="Output .extxyz file."),
                   split: str = typer.Option(None, "--split", help="train or test (default: both)."),
                   force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists.")):
    """Write a data set's successful labels as extxyz (REF_energy, REF_forces, REF_stress)."""
    from contactflow.jobs.train import load_labels
    from contactflow.mlp.data import write_extxyz

    if out.suffix != ".extxyz":
        raise ContactflowError(f"output {out} must end in .extxyz")
    from contactflow.cli.common import check_output_path

    check_output_path(out, force, option="OUT")
    docs = load_labels(dataset, split)
    if not docs:
        raise ContactflowError(f"data set {dataset!r} has no successful labelled configuration"
                               f"{' in split ' + split if split else ''}; see 'contactflow dataset list'")
    n = write_extxyz(docs, out)
    console.print(f"wrote {n} configurations to {out}")


@dataset_app.command("import")
def dataset_import(dataset: str = typer.Argument(..., help="Data set name."),
                   file: Path = typer.Argument(..., help="extxyz written by 'dataset export' (or shipped in potentials/mlp)."),
                   split: str = typer.Option("train", "--split", help="train or test."),
                   engine: str = typer.Option("cp2k:pbe-d3", "--engine", help="Engine the labels came from.")):
    """Load labelled configurations from extxyz into the store (e.g. a shipped model's training data)."""
    from contactflow.jobs.label import import_extxyz

    if not file.is_file():
        raise ContactflowError(f"no such file: {file}")
    n = import_extxyz(file, dataset, split, engine)
    console.print(f"imported {n} configurations into data set {dataset!r} ({split})")


@app.command("train")
def train(
    dataset: str = typer.Argument(..., help="Stored data set to train on (train split; test split held out)."),
    name: str = typer.Option(None, "--name", help="Model set name (default: the data set's)."),
    out: Path = typer.Option(None, "--out", help="Committee directory (default $CONTACTFLOW_HOME/models/NAME)."),
    elements: str = typer.Option(None, "--elements", help="Comma-separated elements the model must cover."),
    members: int = typer.Option(3, "--members", help="Committee size."),
    epochs: int = typer.Option(100, "--epochs", help="Epochs per member."),
    seed: int = typer.Option(0, "--seed", help="Seed of member 0 (member i: seed + i)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    parallel: int = typer.Option(1, "--parallel", help="Members trained at the same time."),
    threads: int = typer.Option(None, "--threads", help="Torch threads per member."),
    baseline: str = typer.Option("d3", "--baseline", help="Analytic term the members learn on top of: d3 or none."),
    force: bool = typer.Option(False, "--force", help="Replace a committee that already exists in the output directory."),
):
    """Train a MACE committee (mace-torch) on a labelled data set; prints held-out errors per system."""
    from contactflow.jobs.train import TrainMaker

    maker = TrainMaker(model_name=name or dataset, output_dir=str(out) if out else None, n_members=members,
                       epochs=epochs, seed=seed, device=device, parallel=parallel, threads=threads,
                       baseline=None if baseline.lower() == "none" else baseline,
                       elements=[e.strip() for e in elements.split(",")] if elements else None)
    maker.check()
    target = maker.target_dir()
    if target.exists() and not target.is_dir():
        raise ContactflowError(f"--out {target} is a file; give a directory for the committee")
    old = sorted(target.glob("member_*.model")) if target.is_dir() else []
    if old and not force:
        raise ContactflowError(f"{target} already holds a committee ({len(old)} member_*.model files); pass --force "
                               "to replace it, or choose another --name/--out")
    from contactflow.cli.progress import CliProgress, interactive

    done = [0] * members  # epochs finished per member (members may train in parallel threads)

    def epoch(i: int, e: int, n: int, loss: float) -> None:
        done[i] = e
        prog.set(sum(done), members * n, f"member {i} (seed {seed + i}) epoch {e}/{n} val loss {loss:.4g}")
        if e == n:
            prog.stage("member", f"{i} (seed {seed + i}) trained: {n} epochs, val loss {loss:.4g}")

    with CliProgress(interactive()) as prog:
        prog.count(members * epochs, "epochs")  # from the start: the first epoch counts in the time left
        doc = maker.compute(dataset, progress=epoch, stage=prog.stage)
    rows = [dict(e.model_dump()) for e in doc.test_errors]
    emit(rows, "table", [("system", "system"), ("n_configs", "test configs"),
                         ("energy_mae_meV_per_atom", "E MAE meV/atom"), ("force_mae_eV_per_A", "F MAE eV/Å"),
                         ("uncertainty_force_error_spearman", "ρ(spread, |ΔF|)")],
         f"{doc.name}: held-out errors (committee of {doc.n_members})")
    console.print(f"engine spec: mace:{doc.model_dir}  ({fmt_cell(doc.time_per_epoch_s)} s/epoch/member on {doc.device})")


@app.command("active-learn")
def active_learn(
    dataset: str = typer.Argument(..., help="Data set that grows."),
    model_dir: Path = typer.Option(..., "--model-dir", help="Committee directory (updated each round)."),
    workflow: str = typer.Option("si_td_hop_neb", "--workflow", help="si_td_hop_neb or bilayer_traction."),
    threshold: float = typer.Option(0.05, "--threshold", help="Stop when the largest force spread < this, eV/Å."),
    select: int = typer.Option(5, "--select", help="Configurations labelled per round."),
    rounds: int = typer.Option(3, "--rounds", help="Largest number of rounds."),
    epochs: int = typer.Option(100, "--epochs", help="Epochs per member when retraining."),
    members: int = typer.Option(3, "--members", help="Committee size when retraining."),
    engine: str = typer.Option("cp2k:pbe-d3", "--engine", help="DFT engine that labels."),
    campaign: str = typer.Option(None, "--campaign", help="Campaign name (default DATASET-WORKFLOW)."),
):
    """Committee-driven active learning: run a workflow, label the most disputed configurations, retrain."""
    from contactflow.jobs.active_learning import ActiveLearningMaker
    from contactflow.jobs.label import DFTLabelMaker
    from contactflow.jobs.train import TrainMaker
    from contactflow.jobs.active_learning import workflow as get_workflow

    get_workflow(workflow)
    if not model_dir.is_dir():
        raise ContactflowError(f"committee directory {model_dir} does not exist; train one first ('contactflow train')")
    maker = ActiveLearningMaker(
        campaign=campaign or f"{dataset}-{workflow}", workflow=workflow, threshold_eV_per_A=threshold,
        n_select=select, max_rounds=rounds,
        label_maker=DFTLabelMaker(engine=engine, dataset=dataset),
        train_maker=TrainMaker(model_name=model_dir.name, output_dir=str(model_dir), epochs=epochs, n_members=members),
    )
    docs = maker.compute(progress=lambda msg: err_console.print(msg))
    emit([d.model_dump() for d in docs], "table",
         [("round", "round"), ("n_candidates", "configs"), ("max_force_std_eV_per_A", "max spread eV/Å"),
          ("converged", "converged"), ("selected", "labelled"), ("force_mae_eV_per_A", "test F MAE eV/Å"),
          ("energy_mae_meV_per_atom", "test E MAE meV/atom")], f"active learning: {maker.campaign}")
