"""Where contactflow finds its shipped data and keeps its own state."""

import os
from pathlib import Path

#: Repository root (src layout: src/contactflow/paths.py -> ../../).
REPO_ROOT = Path(__file__).resolve().parents[2]
STRUCTURES_DIR = REPO_ROOT / "structures"
WORKFLOWS_DIR = REPO_ROOT / "workflows"
POTENTIALS_DIR = REPO_ROOT / "potentials"


def contactflow_home() -> Path:
    """Return the state directory (``$CONTACTFLOW_HOME`` or ``~/.contactflow``), creating it 0700."""
    home = Path(os.environ.get("CONTACTFLOW_HOME") or Path.home() / ".contactflow").expanduser()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home
