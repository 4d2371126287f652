"""Training MACE committee members with mace-torch's own trainer (``mace_run_train``).

Each member is one ``mace_run_train`` process (its own seed, hence its own train/validation split and
initialisation) on the same extxyz data. The process writes its checkpoints and reads them back itself;
contactflow only reads the final ``.model`` file, through the weights-only loader of
:mod:`contactflow.engines.mace_io`. Progress is taken from mace's log as it is written.
"""

import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

#: Default hyperparameters: a small MACE (2 interactions, 32 channels, L ≤ 1, float32 while training) that
#: trains on 2 CPU cores in minutes on ~100 cells of ≤ 33 atoms. Stage two (``swa``) starts at 2/3 of the
#: epochs with energy weight 1000 (mace's recipe for accurate energies after force-weighted training);
#: measured on CHGNet-labelled proxies of the lisic set: energy MAE 11.6 → 6.0 meV/atom at equal epochs.
#: Energy weight 100 in stage one: with 10, rare compositions (Li-free, Li2) kept ±0.75 eV offsets.
#: Keys are mace_run_train options.
DEFAULT_SETTINGS: dict[str, object] = {
    "model": "MACE", "r_max": 5.0, "num_channels": 32, "max_L": 1, "correlation": 2, "num_interactions": 2,
    "num_radial_basis": 8, "batch_size": 4, "valid_batch_size": 8, "lr": 0.01, "energy_weight": 100.0,
    "forces_weight": 100.0, "E0s": "average", "scaling": "rms_forces_scaling", "default_dtype": "float32",
    "valid_fraction": 0.1, "ema": True, "ema_decay": 0.99, "patience": 50, "swa": True,
    "swa_energy_weight": 1000.0, "swa_forces_weight": 100.0,
}
_EPOCH = re.compile(r"Epoch\s+(\d+)[^\n]*?loss=\s*([0-9.eE+-]+)")


@dataclass
class MemberResult:
    """One trained member: model file, validation-loss history, epochs run and wall time."""

    model_path: Path
    seed: int
    loss_history: list[float] = field(default_factory=list)
    epochs: int = 0
    wall_time_s: float = 0.0


class TrainingError(RuntimeError):
    """mace_run_train failed or wrote no model."""


def mace_train_command(train_file: Path, work_dir: Path, name: str, seed: int, epochs: int, device: str,
                       settings: dict) -> list[str]:
    """The ``mace_run_train`` command line for one member."""
    exe = shutil.which("mace_run_train", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    cmd = [exe] if exe else [sys.executable, "-m", "mace.cli.run_train"]
    settings = dict(settings)
    if settings.get("swa") and "start_swa" not in settings:
        settings["start_swa"] = max(1, (2 * epochs) // 3)
    opts = {**settings, "name": name, "seed": seed, "train_file": str(train_file), "work_dir": str(work_dir),
            "max_num_epochs": epochs, "device": device, "energy_key": "REF_energy", "forces_key": "REF_forces",
            "eval_interval": 1, "num_workers": 0}
    for k, v in opts.items():
        if isinstance(v, bool):
            if v:
                cmd.append(f"--{k}")
            continue
        cmd += [f"--{k}", str(v)]
    return cmd + ["--save_cpu"]


def train_member(train_file: Path, work_dir: Path, name: str, seed: int, epochs: int, device: str = "cpu",
                 settings: dict | None = None, threads: int | None = None,
                 progress: Callable[[int, int, float], None] | None = None) -> MemberResult:
    """Train one MACE model and return where it is.

    Parameters
    ----------
    train_file
        extxyz with ``REF_energy``/``REF_forces``.
    work_dir
        Scratch directory of this member (logs, checkpoints, model); emptied first.
    seed
        Seed of the split and the initialisation: the same seed and data give the same model.
    epochs
        Epochs to train.
    progress
        Called with (epoch, epochs, validation loss) as mace logs each epoch.

    Raises
    ------
    TrainingError
        When the trainer exits non-zero or leaves no model file (the last log lines are in the message).
    """
    settings = {**DEFAULT_SETTINGS, **(settings or {})}
    shutil.rmtree(work_dir, ignore_errors=True)  # mace reloads same-named checkpoints: start clean
    work_dir.mkdir(parents=True)
    cmd = mace_train_command(train_file, work_dir, name, seed, epochs, device, settings)
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    history: list[float] = []
    tail: list[str] = []
    with subprocess.Popen(cmd, cwd=work_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as proc:
        for line in proc.stdout:
            tail = (tail + [line.rstrip()])[-15:]
            m = _EPOCH.search(line)
            if m and "Initial" not in line:
                history.append(float(m.group(2)))
                if progress:
                    progress(int(m.group(1)) + 1, epochs, history[-1])
        rc = proc.wait()
    wall = time.perf_counter() - t0
    model = _final_model(work_dir, name)
    if rc != 0 or model is None:
        raise TrainingError(f"mace_run_train (seed {seed}) exited {rc} without a model; last output:\n" + "\n".join(tail))
    log.info("member seed %d: %d epochs in %.1f s, last validation loss %s", seed, len(history), wall,
             history[-1] if history else "n/a")
    return MemberResult(model, seed, history, len(history), wall)


def _final_model(work_dir: Path, name: str) -> Path | None:
    for cand in (f"{name}_stagetwo.model", f"{name}.model"):
        if (work_dir / cand).is_file():
            return work_dir / cand
    return None
