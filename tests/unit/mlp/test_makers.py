"""The Makers of the training stack: settings checked before any compute, queue routing, serialisation."""

import pytest

from contactflow.dispatch.resources import category_for_job
from contactflow.errors import TrainingInputError
from contactflow.jobs.active_learning import ActiveLearningMaker
from contactflow.jobs.label import DFTLabelMaker
from contactflow.jobs.train import TrainMaker, check_training_elements
from contactflow.mlp.training import DEFAULT_SETTINGS, mace_train_command


def test_jobs_route_to_the_right_workers():
    assert category_for_job(TrainMaker().make("d")) == "gpu"  # training: GPU when a worker has one
    assert category_for_job(DFTLabelMaker().make([])) == "cpu"  # CP2K
    assert category_for_job(ActiveLearningMaker().make()) == "cpu"


def test_makers_round_trip_through_json():
    from monty.json import MontyDecoder, MontyEncoder
    import json

    m = ActiveLearningMaker(n_select=7, train_maker=TrainMaker(epochs=9, mace_kwargs={"num_channels": 16}))
    back = json.loads(json.dumps(m.as_dict(), cls=MontyEncoder), cls=MontyDecoder)
    assert back == m and back.train_maker.mace_kwargs == {"num_channels": 16}


@pytest.mark.parametrize("kwargs, msg", [
    ({"engine": "chgnet"}, "needs a DFT engine spec"),
    ({"split": "valid"}, "split must be"),
    ({"dataset": "a b"}, "dataset name must be"),
])
def test_label_maker_rejects_bad_settings(kwargs, msg):
    with pytest.raises(TrainingInputError, match=msg):
        DFTLabelMaker(**kwargs).check()


def test_train_maker_rejects_bad_settings_and_elements():
    with pytest.raises(TrainingInputError, match="n_members"):
        TrainMaker(n_members=0).check()
    with pytest.raises(TrainingInputError, match="model_name"):
        TrainMaker(model_name="../x").check()
    docs = [{"elements": ["Li", "Si"]}, {"elements": ["Si"]}]
    assert check_training_elements(docs, None) == ["Li", "Si"]
    with pytest.raises(TrainingInputError, match="lacks element.*C"):
        check_training_elements(docs, ["C", "Li", "Si"])
    with pytest.raises(TrainingInputError, match="holds element.*Li.*not in the requested"):
        check_training_elements(docs, ["Si"])
    with pytest.raises(TrainingInputError, match="no successful"):
        check_training_elements([], ["Si"])


def test_train_command_carries_seed_and_stage_two(tmp_path):
    cmd = mace_train_command(tmp_path / "t.extxyz", tmp_path, "m", 5, 30, "cpu", DEFAULT_SETTINGS)
    opt = {cmd[i]: cmd[i + 1] for i in range(len(cmd) - 1) if cmd[i].startswith("--") and not cmd[i + 1].startswith("--")}
    assert opt["--seed"] == "5" and opt["--max_num_epochs"] == "30" and opt["--start_swa"] == "20"
    assert "--swa" in cmd and "--save_cpu" in cmd and opt["--energy_key"] == "REF_energy"
