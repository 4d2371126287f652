"""Queue templates and ``qlaunch``: FireWorks' ``CommonAdapter`` (SLURM, PBS, SGE, LSF) writes the batch
script from a template the user edits (``my_qadapter.yaml``); each batch job runs ``contactflow worker``.

``contactflow queue init`` writes ``my_qadapter.yaml``, ``my_fworker.yaml`` and ``my_launchpad.yaml``.
Credentials are never written: a password in ``CONTACTFLOW_MONGO_URI`` (or the config file) stays
there; batch jobs inherit it through the environment of ``sbatch`` (SLURM's default ``--export=ALL``),
and ``my_launchpad.yaml`` (mode 0600) holds the URI without it.
"""

import logging
import os
import re
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml
from fireworks import FWorker
from fireworks.user_objects.queue_adapters.common_adapter import CommonAdapter

from contactflow.dispatch.resources import PROFILES, check_category
from contactflow.errors import DispatchError, QueueConfigError

SCHEDULERS = {"slurm": "SLURM", "pbs": "PBS", "sge": "SGE", "lsf": "LoadSharingFacility"}
QADAPTER_FILE, FWORKER_FILE, LAUNCHPAD_FILE = "my_qadapter.yaml", "my_fworker.yaml", "my_launchpad.yaml"
#: keys CommonAdapter itself reads (besides the template's $${placeholders})
ADAPTER_KEYS = {"_fw_name", "_fw_q_type", "_fw_q_name", "_fw_template_file", "_fw_timeout",
                "_q_commands_override", "logdir"}
_WALLTIME = re.compile(r"^(\d+-\d{1,2}(:\d{2}){0,2}|\d+(:\d{2}){0,2})$")
_GRES = re.compile(r"^[A-Za-z][\w.-]*(:[\w.-]+)*(,[A-Za-z][\w.-]*(:[\w.-]+)*)*$")


def contactflow_executable() -> str:
    """Absolute path of the ``contactflow`` console script of this environment (batch jobs need no PATH)."""
    exe = Path(sys.executable).parent / "contactflow"
    return str(exe) if exe.exists() else (shutil.which("contactflow") or f"{sys.executable} -m contactflow.cli")


def worker_command(categories: list[str] | None = None, once: bool = True) -> str:
    """The ``rocket_launch`` line: ``contactflow worker`` (one job with ``once``) for ``categories``."""
    cmd = f"{contactflow_executable()} worker"
    if once:
        cmd += " --once"
    for c in categories or []:
        cmd += f" --category {check_category(c)}"
    return cmd


def default_qadapter(category: str = "gpu", scheduler: str = "slurm") -> dict:
    """A qadapter mapping for ``category`` (resource profile of :mod:`contactflow.dispatch.resources`)."""
    check_category(category)
    prof = PROFILES["small" if category == "any" else category]
    q_type = _q_type(scheduler)
    fields = {**prof.qadapter_fields(), "job_name": "contactflow", "queue": None, "account": None, "qos": None,
              "mem": None, "pre_rocket": None, "post_rocket": None}
    if q_type == "SLURM":  # torch/OpenMP threads = the cores SLURM gave the task, not the whole node
        fields["pre_rocket"] = "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}"
    keys = template_keys(q_type)  # the resource keys are SLURM's; other templates keep what they know
    return {"_fw_name": "CommonAdapter", "_fw_q_type": q_type, "rocket_launch": worker_command(None, once=True),
            **{k: v for k, v in fields.items() if k in keys}}


def _q_type(scheduler: str) -> str:
    try:
        return SCHEDULERS[scheduler.lower()]
    except KeyError:
        raise QueueConfigError(f"unknown scheduler {scheduler!r}; valid: {', '.join(SCHEDULERS)}") from None


def template_keys(q_type: str, template_file: str | None = None) -> set[str]:
    """The ``$${key}`` placeholders of a CommonAdapter template."""
    path = template_file or CommonAdapter._get_default_template_file(q_type)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise QueueConfigError(f"queue template file {path} cannot be read: {exc.strerror}") from None
    return set(re.findall(r"\$\$\{([\w-]+)\}", text))


def qadapter_from_dict(data, origin: str = "qadapter") -> CommonAdapter:
    """Validate a qadapter mapping and build FireWorks' ``CommonAdapter``.

    Raises
    ------
    QueueConfigError
        Not a mapping, adapter other than CommonAdapter, unknown queue type, a key the template does
        not use (CommonAdapter would silently ignore a typo), no ``rocket_launch``, bad walltime/gres.
    """
    if not isinstance(data, dict):
        raise QueueConfigError(f"{origin} must be a mapping of queue settings, got {type(data).__name__}")
    name = data.get("_fw_name", "CommonAdapter")
    if name != "CommonAdapter":
        raise QueueConfigError(f"{origin}: _fw_name {name!r} is not supported; use 'CommonAdapter'")
    q_type = data.get("_fw_q_type")
    valid_types = list(CommonAdapter.default_q_commands)
    if q_type not in valid_types:
        raise QueueConfigError(f"{origin}: _fw_q_type {q_type!r} is not a queue type; valid: {', '.join(valid_types)}")
    tfile = data.get("_fw_template_file")
    if tfile is not None and not Path(tfile).is_file():
        raise QueueConfigError(f"{origin}: _fw_template_file {tfile!r} does not exist")
    keys = template_keys(q_type, tfile)
    unknown = sorted(k for k in data if k not in keys and k not in ADAPTER_KEYS)
    if unknown:
        raise QueueConfigError(f"{origin}: unknown key(s) {unknown} for the {q_type} template; valid keys: "
                               f"{', '.join(sorted(keys - {'launch_dir'}))}")
    rl = data.get("rocket_launch")
    if not isinstance(rl, str) or not rl.strip():
        raise QueueConfigError(f"{origin}: 'rocket_launch' must be the worker command, e.g. "
                               f"'{worker_command(None)}'")
    wt = data.get("walltime")
    if wt is not None and not _WALLTIME.match(str(wt)):
        raise QueueConfigError(f"{origin}: walltime {wt!r} is not a scheduler time; use [D-]HH:MM:SS, "
                               "MM:SS or minutes (e.g. '04:00:00', '1-00:00:00', 30)")
    gres = data.get("gres")
    if gres is not None and not _GRES.match(str(gres)):
        raise QueueConfigError(f"{origin}: gres {gres!r} is not a generic resource; use e.g. 'gpu:1' or 'gpu:a100:2'")
    for k in ("nodes", "ntasks", "cpus_per_task"):
        v = data.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise QueueConfigError(f"{origin}: {k} must be a positive integer, got {v!r}")
    fields = {k: v for k, v in data.items() if not k.startswith("_fw")}
    return CommonAdapter(q_type=q_type, q_name=data.get("_fw_q_name"), template_file=tfile,
                         timeout=data.get("_fw_timeout"), **fields)


def _read_yaml(path: str | Path, what: str):
    p = Path(path)
    if not p.is_file():
        raise QueueConfigError(f"{what} file not found: {p} (write one with 'contactflow queue init')")
    try:
        return yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise QueueConfigError(f"{what} file {p} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None


def load_qadapter(path: str | Path) -> CommonAdapter:
    """Read and validate ``my_qadapter.yaml`` (see :func:`qadapter_from_dict`)."""
    return qadapter_from_dict(_read_yaml(path, "queue adapter"), str(path))


def load_fworker(path: str | Path) -> FWorker:
    """Read ``my_fworker.yaml`` (name, category, query, env) with its category checked."""
    data = _read_yaml(path, "fworker")
    if not isinstance(data, dict):
        raise QueueConfigError(f"fworker file {path} must be a mapping with keys name, category, query, env")
    unknown = sorted(set(data) - {"name", "category", "query", "env"})
    if unknown:
        raise QueueConfigError(f"fworker file {path}: unknown key(s) {unknown}; valid: name, category, query, env")
    cat = data.get("category") or ""
    cats = cat if isinstance(cat, list) else [cat] if cat else []
    for c in cats:
        check_category(c, allow_any=False)
    query = data.get("query") or {}
    if isinstance(query, str):
        query = yaml.safe_load(query) or {}
    if not isinstance(query, dict):
        raise QueueConfigError(f"fworker file {path}: query must be a mapping (a MongoDB query on Fireworks)")
    return FWorker(name=data.get("name") or "Automatically generated Worker", category=cat, query=query,
                   env=data.get("env") or {})


def launchpad_host_without_password(uri: str) -> str:
    """The URI with the password removed (user name kept)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}" if user else netloc))


def write_queue_files(directory: str | Path, store, category: str = "gpu", scheduler: str = "slurm",
                      force: bool = False) -> list[Path]:
    """Write ``my_qadapter.yaml``, ``my_fworker.yaml``, ``my_launchpad.yaml`` (mode 0600) in ``directory``.

    Parameters
    ----------
    store
        The open ContactStore: its database and URI (the password is never written).
    force
        Overwrite existing files (else :class:`DispatchError`).
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = [d / QADAPTER_FILE, d / FWORKER_FILE, d / LAUNCHPAD_FILE]
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise DispatchError(f"{', '.join(existing)} already exist(s); edit them or pass --force to overwrite")
    check_category(category)
    has_password = urlsplit(store.uri).password is not None
    source = "CONTACTFLOW_MONGO_URI" if store.settings.source == "env" else store.settings.source
    qa = default_qadapter(category, scheduler)
    qa_text = (
        "# FireWorks CommonAdapter: the batch script of each queue job ('contactflow queue launch').\n"
        "# Keys are the $${...} placeholders of FireWorks' template for this scheduler; a null key drops its\n"
        "# #SBATCH line. Add e.g. 'pre_rocket: module load cuda' or a partition ('queue'). The store URI\n"
        "# (and any password) reaches the job through the environment of sbatch, never through this file.\n"
        + yaml.safe_dump(qa, sort_keys=False)
    )
    fw = {"name": f"contactflow-{category}-worker", "category": "" if category == "any" else category,
          "query": "{}", "env": {}}
    fw_text = ("# FireWorks worker: 'category' selects the jobs it pulls (gpu: MLP/MD, cpu: DFT, small: analysis;\n"
               "# '' = any). Used by 'contactflow worker --fworker my_fworker.yaml' and 'queue launch'.\n"
               + yaml.safe_dump(fw, sort_keys=False))
    lp = {"host": launchpad_host_without_password(store.uri), "name": store.settings.database, "uri_mode": True,
          "logdir": None, "strm_lvl": "INFO"}
    notes = ["# LaunchPad for FireWorks' own tools (lpad, rlaunch -l my_launchpad.yaml); the FireWorks collections",
             "# live in the contactflow results database. contactflow commands read the store from",
             "# CONTACTFLOW_MONGO_URI / CONTACTFLOW_DB / $CONTACTFLOW_HOME/config.yaml, not from this file."]
    if has_password:
        notes.append(f"# The password is NOT written here: it stays in {source}. For lpad, add it to 'host' yourself")
        notes.append("# (this file is mode 0600) or use the contactflow commands.")
    if store.settings.embedded:
        notes.append("# This is the embedded store of this machine: only workers on this host reach it, and its port")
        notes.append("# changes when it restarts; use a MongoDB server (CONTACTFLOW_MONGO_URI) for a cluster.")
    lp_text = "\n".join(notes) + "\n" + yaml.safe_dump(lp, sort_keys=False)
    for p, text in zip(paths, (qa_text, fw_text, lp_text)):
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(p, 0o600)
    return paths


def build_qadapter(template: str | Path | None, scheduler: str | None = None, categories: list[str] | None = None,
                   overrides: dict | None = None) -> CommonAdapter:
    """The queue adapter for ``queue launch``: the user's template (or the defaults), the category's
    resource profile where the template has no value, then explicit ``overrides`` (CLI flags)."""
    cat = (categories or ["gpu"])[0] if categories and len(categories) == 1 else "any"
    if template is not None:
        data = _read_yaml(template, "queue adapter")
        qadapter_from_dict(data, str(template))  # validate as written
        origin = str(template)
    else:
        data = default_qadapter(cat, scheduler or "slurm")
        origin = "default queue adapter"
    if scheduler is not None and data.get("_fw_q_type") != _q_type(scheduler):
        raise QueueConfigError(f"--scheduler {scheduler} but {origin} is for {data.get('_fw_q_type')}; "
                               "edit _fw_q_type or drop --scheduler")
    data = dict(data)
    for k, v in (overrides or {}).items():
        if v is None:
            continue
        data[k] = None if isinstance(v, str) and v.lower() == "none" else v  # "none" drops the line
    rl = data.get("rocket_launch", "")
    if categories and "--category" not in rl:
        data["rocket_launch"] = rl + "".join(f" --category {check_category(c)}" for c in categories)
    return qadapter_from_dict(data, origin)


@contextmanager
def _environ(env: dict[str, str]):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _Collect(logging.Handler):
    """Keeps the ERROR lines FireWorks logs while submitting (the scheduler's own message first)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record):
        msg = record.getMessage()
        if "error response reads" in msg.lower():
            msg = msg.split("reads:", 1)[1].strip().removeprefix("b'").removeprefix('b"').rstrip("'\"")
            self.messages.insert(0, msg.replace("\\n", " ").strip())
        elif "Traceback" not in msg and any(ch.isalpha() and ch != "v" for ch in msg):  # not log_fancy's borders
            self.messages.append(msg)


def store_environment(store) -> dict[str, str]:
    """Environment a batch job needs to reach this store (passed to sbatch, never written to a file)."""
    from contactflow.paths import contactflow_home

    return {"CONTACTFLOW_MONGO_URI": store.uri, "CONTACTFLOW_DB": store.settings.database,
            "CONTACTFLOW_HOME": str(contactflow_home())}


def launch_queue_jobs(lp, qadapter: CommonAdapter, fworker: FWorker, launch_dir: str | Path, njobs: int,
                      env: dict[str, str]) -> list[str]:
    """Submit up to ``njobs`` batch jobs with FireWorks' ``qlaunch`` (non-reservation mode, one
    ``launch_rocket_to_queue`` per job: FireWorks writes the script from the template and calls sbatch).

    Stops early when no job for ``fworker`` is READY. Returns the scheduler's job ids.

    Raises
    ------
    DispatchError
        The submit command is missing or refused the script (its message is included).
    """
    from fireworks.queue.queue_launcher import launch_rocket_to_queue
    from fireworks.utilities.fw_utilities import create_datestamp_dir

    submit = qadapter.q_commands[qadapter.q_type]["submit_cmd"]
    if shutil.which(submit) is None:
        raise DispatchError(f"'{submit}' not found: no {qadapter.q_type} client on this machine (PATH)")
    if njobs < 1:
        raise DispatchError(f"--njobs must be at least 1, got {njobs}")
    launch_dir = Path(launch_dir).resolve()
    launch_dir.mkdir(parents=True, exist_ok=True)
    collect = _Collect()
    loggers = [logging.getLogger(f"qadapter.{qadapter.q_name}"), logging.getLogger("queue.launcher")]
    for lg in loggers:
        lg.addHandler(collect)
    ids: list[str] = []
    try:
        with _environ(env):
            block = create_datestamp_dir(str(launch_dir), logging.getLogger("queue.launcher"), prefix="block_")
            for _ in range(njobs):
                rid = launch_rocket_to_queue(lp, fworker, qadapter, block, reserve=False, strm_lvl="CRITICAL",
                                             create_launcher_dir=True)
                if rid is None:  # FireWorks: nothing READY for this worker
                    break
                if not rid:
                    detail = " | ".join(m.strip().replace("\n", " ")[:400] for m in collect.messages[:2])
                    raise DispatchError(f"{submit} refused the job script (submitted {len(ids)} of {njobs}): "
                                        f"{detail or 'no message'}; script and logs under {block}")
                ids.append(str(rid))
    finally:
        for lg in loggers:
            lg.removeHandler(collect)
    return ids
