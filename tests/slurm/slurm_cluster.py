"""A real single-node SLURM cluster for the queue tests: munged + slurmctld + slurmd on this host.

Debian ``slurm-wlm`` and ``munge`` (installed by ``setup.sh`` when run as root). Configuration as in
shared/MACHINE-NOTES.md: ``SlurmUser=root``, ``ProctrackType=proctrack/linuxproc``,
``TaskPlugin=task/none``, ``JobAcctGatherType=jobacct_gather/none``, ``SelectType=select/cons_tres``,
state/spool/log directories under a temporary directory, the node line from ``slurmd -C`` and one
partition. Commands find the cluster through ``SLURM_CONF``.

Use from tests (fixture in the test module) or by hand::

    python tests/slurm/slurm_cluster.py start /tmp/slurm   # prints export SLURM_CONF=...
    python tests/slurm/slurm_cluster.py stop /tmp/slurm
"""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

MUNGE_KEY = Path("/etc/munge/munge.key")
MUNGE_SOCKET_DIR = Path("/run/munge")
BINARIES = ("munged", "munge", "unmunge", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "scancel")


class SlurmUnavailable(RuntimeError):
    """SLURM cannot run on this machine; the message says why."""


def _which(name: str) -> str | None:
    return shutil.which(name) or next((str(p) for d in ("/usr/sbin", "/usr/bin", "/sbin")
                                       if (p := Path(d) / name).exists()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _munge_works(socket_path: str | Path) -> bool:
    try:
        cred = subprocess.run([_which("munge"), "-n", f"--socket={socket_path}"], capture_output=True, timeout=10)
        if cred.returncode:
            return False
        r = subprocess.run([_which("unmunge"), f"--socket={socket_path}"], input=cred.stdout, capture_output=True,
                           timeout=10)
        return r.returncode == 0
    except (OSError, subprocess.SubprocessError, TypeError):
        return False


class SlurmCluster:
    """Start/stop a one-node SLURM under ``root`` (a directory for config, state, spool and logs)."""

    def __init__(self, root: str | Path, partition: str = "debug"):
        self.root = Path(root).resolve()
        self.partition = partition
        self.conf = self.root / "slurm.conf"
        self.host = socket.gethostname().split(".")[0]
        # a munged of our own on its own socket: another cluster (a parallel test run, a system
        # service) can neither be stopped by us nor stop ours. /run/munge, because munged (user munge)
        # cannot reach into pytest's 0700 temporary directories.
        tag = f"contactflow-{os.getpid()}-{abs(hash(str(self.root))) % 10**8}"
        self.munge_socket = MUNGE_SOCKET_DIR / f"{tag}.socket"
        self.munge_files = [self.munge_socket, MUNGE_SOCKET_DIR / f"{tag}.pid", MUNGE_SOCKET_DIR / f"{tag}.seed",
                            MUNGE_SOCKET_DIR / f"{tag}.log", MUNGE_SOCKET_DIR / f"{tag}.socket.lock"]
        self.pids: dict[str, int] = {}
        self._procs: dict[str, subprocess.Popen] = {}

    # ------------------------------------------------------------------ setup
    def check(self) -> None:
        """Raise :class:`SlurmUnavailable` naming what is missing."""
        if os.geteuid() != 0:
            raise SlurmUnavailable("the single-node SLURM runs as root (SlurmUser=root, munged as user munge); "
                                   f"this process runs as uid {os.geteuid()}")
        missing = [b for b in BINARIES if _which(b) is None]
        if missing:
            raise SlurmUnavailable(f"SLURM/munge binaries missing: {missing}; install Debian 'slurm-wlm' and "
                                   "'munge' (./setup.sh does so as root)")
        try:
            pwd.getpwnam("munge")
        except KeyError:
            raise SlurmUnavailable("user 'munge' does not exist (Debian package 'munge' creates it)") from None

    def env(self) -> dict[str, str]:
        """Environment for SLURM client commands (``SLURM_CONF``)."""
        return {"SLURM_CONF": str(self.conf)}

    def _node_line(self) -> str:
        out = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True, timeout=30).stdout
        line = next((ln for ln in out.splitlines() if ln.startswith("NodeName=")), None)
        if line is None:
            raise SlurmUnavailable(f"'slurmd -C' printed no node line: {out!r}")
        fields = dict(kv.split("=", 1) for kv in line.split())
        # a little below the detected memory, else slurmd drains the node ("Low RealMemory")
        fields["RealMemory"] = str(max(256, int(int(fields.get("RealMemory", "1024")) * 0.9)))
        fields["NodeName"] = self.host
        # loopback address: no dependence on the host name resolving (containers, CI machines)
        fields = {"NodeName": self.host, "NodeAddr": "127.0.0.1", "NodeHostname": self.host,
                  **{k: v for k, v in fields.items() if k != "NodeName"}}
        return " ".join(f"{k}={v}" for k, v in fields.items()) + " State=UNKNOWN"

    def write_config(self) -> None:
        for d in ("state", "spool", "log", "run"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        ctld_port, d_port = _free_port(), _free_port()
        text = f"""# single-node SLURM for contactflow's queue tests (generated)
ClusterName=contactflow-ci
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={self.root}/state
SlurmdSpoolDir={self.root}/spool
SlurmctldPidFile={self.root}/run/slurmctld.pid
SlurmdPidFile={self.root}/run/slurmd.pid
SlurmctldLogFile={self.root}/log/slurmctld.log
SlurmdLogFile={self.root}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=5
{self._node_line()}
PartitionName={self.partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
        self.conf.write_text(text)

    # ------------------------------------------------------------------ daemons
    def _start_munged(self) -> None:
        if not MUNGE_KEY.exists():
            mk = _which("mungekey") or _which("create-munge-key")
            if mk is None:
                raise SlurmUnavailable(f"{MUNGE_KEY} missing and no mungekey/create-munge-key to make one")
            subprocess.run([mk] if mk.endswith("create-munge-key") else [mk, "--create"], check=True,
                           capture_output=True, timeout=60)
        munge_pw = pwd.getpwnam("munge")
        os.chown(MUNGE_KEY, munge_pw.pw_uid, munge_pw.pw_gid)
        os.chmod(MUNGE_KEY, 0o400)
        MUNGE_SOCKET_DIR.mkdir(parents=True, exist_ok=True)
        os.chown(MUNGE_SOCKET_DIR, munge_pw.pw_uid, munge_pw.pw_gid)
        os.chmod(MUNGE_SOCKET_DIR, 0o755)
        sock, pid, seed, mlog, _ = self.munge_files
        log = open(self.root / "log" / "munged.log", "ab")
        proc = subprocess.Popen(
            [_which("munged"), "--foreground", "--force", f"--socket={sock}", f"--pid-file={pid}",
             f"--seed-file={seed}", f"--log-file={mlog}", f"--key-file={MUNGE_KEY}"],
            user=munge_pw.pw_uid, group=munge_pw.pw_gid, extra_groups=[], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        self._procs["munged"] = proc
        self.pids["munged"] = proc.pid
        self._wait(lambda: _munge_works(sock), 20, "munged did not answer (munge -n | unmunge)", "munged.log")

    def _start_daemon(self, name: str) -> None:
        log = open(self.root / "log" / f"{name}-stdout.log", "ab")
        proc = subprocess.Popen([_which(name), "-D", "-f", str(self.conf)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, env={**os.environ, **self.env()})
        self._procs[name] = proc
        self.pids[name] = proc.pid

    def _wait(self, ok, timeout_s: float, what: str, logname: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ok():
                return
            dead = [n for n, p in self._procs.items() if p.poll() is not None]
            if dead:
                break
            time.sleep(0.3)
        tail = self.log_tail(logname)
        self.stop()
        raise SlurmUnavailable(f"{what} within {timeout_s:.0f} s; log {logname}:\n{tail}")

    def log_tail(self, name: str, n: int = 2000) -> str:
        for p in (self.root / "log" / name, self.root / "log" / name.replace(".log", "-stdout.log")):
            if p.exists():
                return p.read_text(errors="replace")[-n:]
        return "(no log)"

    def node_state(self) -> str:
        r = subprocess.run([_which("sinfo"), "-h", "-N", "-o", "%T"], capture_output=True, text=True,
                           env={**os.environ, **self.env()}, timeout=20)
        return r.stdout.strip() if r.returncode == 0 else f"sinfo failed: {r.stderr.strip()}"

    def start(self, timeout_s: float = 60) -> "SlurmCluster":
        """Check, configure and start munged (if none answers), slurmctld and slurmd; wait for an idle node."""
        self.check()
        self.root.mkdir(parents=True, exist_ok=True)
        self.write_config()
        self._start_munged()
        self._start_daemon("slurmctld")
        self._wait(lambda: not self.node_state().startswith("sinfo failed"), timeout_s,
                   "slurmctld did not answer sinfo", "slurmctld.log")
        self._start_daemon("slurmd")
        self._wait(lambda: self.node_state() in ("idle", "mixed", "allocated"), timeout_s,
                   f"node {self.host} did not become idle (state {self.node_state()!r})", "slurmd.log")
        (self.root / "pids.json").write_text(json.dumps({**self.pids, "munge_files": [str(f) for f in self.munge_files]}))
        return self

    def stop(self) -> None:
        """Cancel remaining jobs, stop slurmd, slurmctld and the munged this object started."""
        if self.conf.exists() and "slurmctld" in self.pids and _alive(self.pids["slurmctld"]):
            subprocess.run([_which("scancel"), "--full", "--quiet", f"--partition={self.partition}"],
                           capture_output=True, env={**os.environ, **self.env()}, timeout=20)
        for name in ("slurmd", "slurmctld", "munged"):
            pid = self.pids.pop(name, None)
            if pid is None:
                continue
            proc = self._procs.pop(name, None)
            try:
                os.killpg(pid, signal.SIGTERM)  # own session: the daemon and anything it forked
            except OSError:
                pass
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                if proc is not None:
                    proc.poll()
                time.sleep(0.2)
            if _alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            if proc is not None:
                proc.wait(timeout=10)
        for f in self.munge_files:
            f.unlink(missing_ok=True)
        (self.root / "pids.json").unlink(missing_ok=True)

    @classmethod
    def from_dir(cls, root: str | Path) -> "SlurmCluster":
        """The cluster started earlier under ``root`` (by the command-line entry point)."""
        c = cls(root)
        pids = c.root / "pids.json"
        if pids.exists():
            c.pids = json.loads(pids.read_text())
            c.munge_files = [Path(f) for f in c.pids.pop("munge_files", [])]
        return c


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print("usage: slurm_cluster.py start|stop DIR", file=sys.stderr)
        return 2
    cluster = SlurmCluster(argv[2]) if argv[1] == "start" else SlurmCluster.from_dir(argv[2])
    if argv[1] == "start":
        try:
            cluster.start()
        except SlurmUnavailable as exc:
            print(f"SLURM unavailable: {exc}", file=sys.stderr)
            return 1
        # the daemons run in their own sessions and outlive this script; 'stop' ends them
        for p in cluster._procs.values():
            p.returncode = 0
        print(f"export SLURM_CONF={cluster.conf}")
        return 0
    cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
