"""Documents of the interface-trained potentials: DFT-labelled configurations, trained committees and
active-learning rounds."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from contactflow.schemas.provenance import Provenance

State = Literal["successful", "failed"]


class LabelledConfigDoc(BaseModel):
    """One configuration with DFT energy, forces (and stress): a training/test datum.

    A DFT run that failed or did not converge is stored with ``state="failed"`` and its reason and no
    numbers; training never reads it.
    """

    doc_key: str = Field(..., description="unique key: hash of (dataset, fingerprint, engine)")
    dataset: str = Field(..., description="data set this configuration belongs to, e.g. 'lisic'")
    source: str = Field(..., description="workflow/sampler that produced it: neb_images, strain, rattle, md, traction, registry, li_insertion, active_learning")
    system: str = Field(..., description="chemical system label, e.g. 'Li-Si' or 'C bilayer' (used to report errors per system)")
    split: Literal["train", "test"] = Field("train", description="train (also used for validation) or held-out test")
    formula: str = Field(..., description="reduced-free chemical formula of the cell, e.g. 'LiSi32'")
    elements: list[str] = Field(..., description="elements present, sorted")
    n_atoms: int = Field(..., description="atoms in the cell")
    fingerprint: list[float] = Field(..., description="structural fingerprint (pair-distance histograms) used for deduplication")
    structure: dict = Field(..., description="pymatgen Structure.as_dict() of the configuration")
    engine: str = Field(..., description="canonical DFT engine spec, e.g. 'cp2k:pbe-d3'")
    dft_settings: dict[str, Any] = Field(default_factory=dict, description="the DFT settings used (preset values, k-point grid)")
    state: State = Field(..., description="failed runs carry the reason and no numbers")
    failure_reason: str | None = Field(None, description="why the DFT run failed (SCF not converged, abort)")
    energy_eV: float | None = Field(None, description="total energy, eV")
    forces_eV_per_A: list[list[float]] | None = Field(None, description="forces per atom, eV/Å")
    stress_eV_per_A3: list[float] | None = Field(None, description="stress, Voigt order xx yy zz yz xz xy, eV/Å³ (ASE sign)")
    magnetic_moments_muB: list[float] | None = Field(
        None, description="converged Mulliken spin moment per atom of a spin-polarised run, μB (None: closed shell)")
    committee_std_eV_per_atom: float | None = Field(
        None, description="committee energy spread when the configuration was selected by active learning, eV/atom")
    provenance: Provenance = Field(default_factory=Provenance, description="who/what/when")


class SystemErrors(BaseModel):
    """Errors of a trained model on one system of a held-out test set."""

    system: str = Field(..., description="system label")
    n_configs: int = Field(..., description="test configurations of this system")
    energy_mae_meV_per_atom: float = Field(..., description="mean absolute energy error, meV/atom")
    energy_rmse_meV_per_atom: float = Field(..., description="root-mean-square energy error, meV/atom")
    force_mae_eV_per_A: float = Field(..., description="mean absolute force-component error, eV/Å")
    force_rmse_eV_per_A: float = Field(..., description="root-mean-square force-component error, eV/Å")
    uncertainty_force_error_spearman: float | None = Field(
        None, description="Spearman rank correlation of the committee per-atom force spread with the true per-atom force error")


class ModelDoc(BaseModel):
    """A trained MACE committee: where its files are, how it was trained and how well it does."""

    doc_key: str = Field(..., description="unique key: hash of (name, dataset fingerprint, settings, seeds)")
    name: str = Field(..., description="model set name; engine spec 'mace:<model_dir>'")
    model_dir: str = Field(..., description="directory holding the committee members (member_*.model)")
    dataset: str = Field(..., description="data set trained on")
    elements: list[str] = Field(..., description="elements the model covers, sorted")
    state: State = Field(..., description="failed trainings carry the reason")
    failure_reason: str | None = Field(None, description="why training failed")
    n_members: int = Field(..., description="committee size")
    seeds: list[int] = Field(..., description="random seed of each member (split and initialisation)")
    member_files: list[str] = Field(default_factory=list, description="file name of each member")
    member_hashes: list[str] = Field(default_factory=list, description="sha256 prefix of each member file")
    n_train: int = Field(..., description="labelled configurations available for training + validation")
    n_test: int = Field(0, description="held-out test configurations")
    data_hash: str = Field(..., description="sha256 prefix of the training data (doc_keys, sorted)")
    settings: dict[str, Any] = Field(default_factory=dict, description="MACE hyperparameters passed to mace_run_train")
    baseline: str | None = Field(None, description="analytic term the members learn on top of (they fit DFT − term; "
                                 "the engine adds it back): 'd3' = DFT-D3(BJ), PBE parameters, torch-dftd, 10 Å "
                                 "cutoff; None = the members give the total energy")
    epochs: int = Field(..., description="epochs per member")
    train_time_s: float | None = Field(None, description="wall time of training all members, s")
    time_per_epoch_s: float | None = Field(None, description="mean wall time per epoch per member, s")
    device: str = Field("cpu", description="device trained on")
    loss_history: list[list[float]] = Field(
        default_factory=list, description="per member: validation loss at each evaluation")
    test_errors: list[SystemErrors] = Field(default_factory=list, description="held-out errors per system (committee mean)")
    energy_mae_meV_per_atom: float | None = Field(None, description="held-out energy MAE over all systems, meV/atom")
    force_mae_eV_per_A: float | None = Field(None, description="held-out force MAE over all systems, eV/Å")
    uncertainty_force_error_spearman: float | None = Field(
        None, description="held-out rank correlation of per-atom committee force spread with per-atom force error")
    provenance: Provenance = Field(default_factory=Provenance, description="who/what/when")


class ActiveLearningRoundDoc(BaseModel):
    """One active-learning round: committee spread on the workflow's configurations, what was picked."""

    doc_key: str = Field(..., description="unique key: hash of (campaign, round)")
    campaign: str = Field(..., description="name of the active-learning campaign")
    round: int = Field(..., description="round number, 0-based")
    dataset: str = Field(..., description="data set the round adds to")
    model_key: str | None = Field(None, description="ModelDoc doc_key of the committee used in this round")
    n_candidates: int = Field(..., description="configurations the workflow produced")
    max_force_std_eV_per_A: float = Field(..., description="largest per-atom committee force spread over the candidates, eV/Å")
    mean_force_std_eV_per_A: float = Field(..., description="mean per-configuration committee force spread, eV/Å")
    max_energy_std_eV_per_atom: float = Field(..., description="largest committee energy spread, eV/atom")
    threshold_eV_per_A: float = Field(..., description="stop criterion on the largest force spread, eV/Å")
    converged: bool = Field(..., description="max force spread below the threshold: no labelling needed")
    selected: int = Field(0, description="configurations picked for DFT labelling")
    selected_force_std_eV_per_A: list[float] = Field(default_factory=list, description="their committee force spread, eV/Å")
    labelled_ok: int = Field(0, description="picked configurations whose DFT run succeeded")
    labelled_failed: int = Field(0, description="picked configurations whose DFT run failed (excluded from training)")
    energy_mae_meV_per_atom: float | None = Field(None, description="held-out energy MAE of this round's committee, meV/atom")
    force_mae_eV_per_A: float | None = Field(None, description="held-out force MAE of this round's committee, eV/Å")
    stop_reason: str | None = Field(None, description="why the campaign stopped here without converging (e.g. every "
                                    "disputed configuration is already labelled), None otherwise")
    provenance: Provenance = Field(default_factory=Provenance, description="who/what/when")
