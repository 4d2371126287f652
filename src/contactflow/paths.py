"""Where contactflow finds its shipped data and keeps its own state."""

import os
from pathlib import Path

#: Repository root (src layout: src/contactflow/paths.py -> ../../).
REPO_ROOT = Path(__file__).resolve().parents[2]
STRUCTURES_DIR = REPO_ROOT / "structures"
WORKFLOWS_DIR = REPO_ROOT / "workflows"
POTENTIALS_DIR = REPO_ROOT / "potentials"


#: homes already checked to be writable directories in this process
_CHECKED: set[Path] = set()


def contactflow_home() -> Path:
    """Return the state directory (``$CONTACTFLOW_HOME`` or ``~/.contactflow``), creating it 0700.

    Raises
    ------
    ConfigError
        If the path is a file, lies under a file, or is not a writable directory (checked by writing a
        probe file once per process: ``os.access`` answers yes to root even on a read-only file system).
    """
    from contactflow.errors import ConfigError

    env = os.environ.get("CONTACTFLOW_HOME")
    home = Path(env or Path.home() / ".contactflow").expanduser()
    if home in _CHECKED and home.is_dir():
        return home
    what = f"CONTACTFLOW_HOME={env}" if env else f"the state directory {home}"
    fix = "set CONTACTFLOW_HOME to a writable directory (it is created if missing)"
    if home.exists() and not home.is_dir():
        raise ConfigError(f"{what} is a file, not a directory; {fix}")
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
    except NotADirectoryError:
        blocker = next((p for p in home.parents if p.exists() and not p.is_dir()), home.parent)
        raise ConfigError(f"{what} lies under {blocker}, which is a file; {fix}") from None
    except OSError as exc:
        raise ConfigError(f"{what} cannot be created: {exc.strerror or exc}; {fix}") from None
    try:
        import tempfile

        with tempfile.TemporaryFile(dir=home, prefix=".probe-"):
            pass
    except OSError as exc:
        raise ConfigError(f"{what} is not writable: {exc.strerror or exc}; {fix}") from None
    _CHECKED.add(home)
    return home
