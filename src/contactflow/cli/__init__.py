"""``contactflow`` command line (Typer + rich).

Errors a user can fix (bad engine spec, unreachable store, corrupt config, bad recipe) print one line
``error: …`` on stderr and exit with code 2; nothing stored is touched. Failed calculations exit 3,
Ctrl-C prints one line ``interrupted: …`` and exits 130 (exit codes: :mod:`contactflow.errors`). Each command group lives in
its own module and registers itself on :data:`app`.
"""

import sys

from contactflow.cli import continuum, demo, export, query, recipes, report, store, submit  # noqa: F401  (register commands)
from contactflow.cli import plot, run  # noqa: F401  (plot traction-separation, run RECIPE --task; after neb)
from contactflow.cli.common import app, run_cli
from contactflow.cli import neb  # noqa: F401  (plot neb; imported after common)
from contactflow.cli import md  # noqa: F401  (plot pull-off, MD query columns; after neb)
from contactflow.cli import mlp  # noqa: F401  (dataset, train, active-learn)
from contactflow.cli import screen  # noqa: F401  (screen SPACE, screen show NAME)
from contactflow.cli import validate  # noqa: F401  (validate, engines)
from contactflow.cli import serve  # noqa: F401  (the results browser)


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and their exit code (see
    :func:`contactflow.cli.common.run_cli`)."""
    sys.exit(run_cli())
