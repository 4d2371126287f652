"""``contactflow`` command line (Typer + rich).

Errors a user can fix (bad engine spec, unreachable store, corrupt config, bad recipe) print one line
``error: …`` on stderr and exit with code 2; nothing stored is touched. Each command group lives in
its own module and registers itself on :data:`app`.
"""

import sys

from rich.markup import escape

from contactflow.cli import continuum, demo, export, query, recipes, report, store, submit  # noqa: F401  (register commands)
from contactflow.cli import plot, run  # noqa: F401  (plot traction-separation, run RECIPE --task; after neb)
from contactflow.cli.common import app, err_console
from contactflow.cli import neb  # noqa: F401  (plot neb; imported after common)
from contactflow.cli import md  # noqa: F401  (plot pull-off, MD query columns; after neb)
from contactflow.cli import mlp  # noqa: F401  (dataset, train, active-learn)
from contactflow.cli import serve  # noqa: F401  (the results browser)
from contactflow.errors import ContactflowError


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except ContactflowError as exc:
        # escape: messages quote user input (specs, URIs, keys) that rich would read as markup
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(getattr(exc, "exit_code", 2))
