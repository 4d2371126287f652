"""Queue templates: validation of my_qadapter.yaml / my_fworker.yaml and the batch script FireWorks writes."""

import pytest
import yaml

from contactflow.dispatch.queue import (
    build_qadapter, default_qadapter, launchpad_host_without_password, load_fworker, load_qadapter,
    qadapter_from_dict,
)
from contactflow.errors import CategoryError, QueueConfigError


def test_default_slurm_script_has_resources_and_worker(tmp_path):
    qa = build_qadapter(None, "slurm", ["gpu"], {"nodes": 2, "walltime": "01:30:00", "queue": "gpu-part"})
    script = qa.get_script_str(str(tmp_path))
    assert "#SBATCH --nodes=2" in script and "#SBATCH --time=01:30:00" in script
    assert "#SBATCH --gres=gpu:1" in script and "#SBATCH --partition=gpu-part" in script
    assert "#SBATCH --cpus-per-task=4" in script  # gpu profile
    assert "worker --once --category gpu" in script
    assert "--account" not in script  # null keys drop their line
    assert f"cd {tmp_path}" in script
    assert "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}" in script  # threads = cores given


def test_user_template_wins_over_profile_and_flags_win_over_template(tmp_path):
    data = default_qadapter("cpu")
    data.update(ntasks=64, walltime="2-00:00:00", pre_rocket="module load cp2k")
    p = tmp_path / "my_qadapter.yaml"
    p.write_text(yaml.safe_dump(data))
    qa = build_qadapter(p, None, ["cpu"], {"walltime": "10:00:00"})
    script = qa.get_script_str(str(tmp_path))
    assert "#SBATCH --ntasks=64" in script and "#SBATCH --time=10:00:00" in script
    assert "module load cp2k" in script and "--gres" not in script


@pytest.mark.parametrize("text,match", [
    ("_fw_q_type: SLURM\nrocket_launch: [unclosed\n", "not valid YAML at line"),
    ("- a\n- b\n", "must be a mapping"),
    ("_fw_q_type: SLURMX\nrocket_launch: w\n", "_fw_q_type 'SLURMX' is not a queue type; valid: PBS, SGE"),
    ("_fw_q_type: SLURM\nrocket_launch: w\nwalltim: '01:00:00'\n", r"unknown key\(s\) \['walltim'\]"),
    ("_fw_q_type: SLURM\nrocket_launch: w\nwalltime: 'one hour'\n", "walltime 'one hour' is not a scheduler time"),
    ("_fw_q_type: SLURM\nrocket_launch: w\ngres: '1 gpu'\n", "gres '1 gpu' is not a generic resource"),
    ("_fw_q_type: SLURM\nrocket_launch: w\nnodes: 0\n", "nodes must be a positive integer"),
    ("_fw_q_type: SLURM\n", "'rocket_launch' must be the worker command"),
    ("_fw_name: PBSNewtAdapter\n_fw_q_type: PBS\nrocket_launch: w\n", "_fw_name 'PBSNewtAdapter' is not supported"),
])
def test_malformed_queue_templates_give_specific_errors(tmp_path, text, match):
    p = tmp_path / "q.yaml"
    p.write_text(text)
    with pytest.raises(QueueConfigError, match=match):
        load_qadapter(p)


def test_missing_template_and_scheduler_mismatch(tmp_path):
    with pytest.raises(QueueConfigError, match="not found.*queue init"):
        load_qadapter(tmp_path / "nope.yaml")
    p = tmp_path / "q.yaml"
    p.write_text(yaml.safe_dump(default_qadapter("gpu", "pbs")))
    with pytest.raises(QueueConfigError, match="--scheduler slurm but .* is for PBS"):
        build_qadapter(p, "slurm", ["gpu"], {})
    with pytest.raises(QueueConfigError, match="unknown scheduler 'torque'; valid: slurm, pbs, sge, lsf"):
        default_qadapter("gpu", "torque")
    with pytest.raises(CategoryError):
        build_qadapter(None, "slurm", ["quantum"], {})


def test_fworker_file(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("name: n1\ncategory: cpu\nquery: '{\"spec.priority\": 1}'\n")
    fw = load_fworker(p)
    assert fw.category == "cpu" and fw.query["spec._category"] == "cpu" and fw.query["spec.priority"] == 1
    p.write_text("name: n1\ncategory: fpga\n")
    with pytest.raises(CategoryError, match="'fpga'"):
        load_fworker(p)
    p.write_text("name: n1\ncatgory: cpu\n")
    with pytest.raises(QueueConfigError, match=r"unknown key\(s\) \['catgory'\]"):
        load_fworker(p)


def test_password_is_removed_from_launchpad_host():
    assert launchpad_host_without_password("mongodb://alice:s3cr%40t@db.example:27017/?authSource=admin") == \
        "mongodb://alice@db.example:27017/?authSource=admin"
    assert launchpad_host_without_password("mongodb://127.0.0.1:1234/") == "mongodb://127.0.0.1:1234/"


def test_qadapter_from_dict_round_trip_is_a_fireworks_adapter():
    qa = qadapter_from_dict(default_qadapter("small"))
    assert qa.q_type == "SLURM" and qa.q_commands["SLURM"]["submit_cmd"] == "sbatch"
