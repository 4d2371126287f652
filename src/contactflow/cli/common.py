"""Shared CLI objects: the root Typer app, consoles and output helpers."""

import csv
import io
import json
import sys
import warnings
from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table

from contactflow import __version__
from contactflow.errors import ContactflowError

app = typer.Typer(help="contactflow: contact interfaces in swelling anodes, from recipe to continuum.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)

# Wide enough for result tables when stdout is not a terminal (CI logs, pipes).
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
FORMATS = ("table", "json", "csv")


def quiet_libraries() -> None:
    """Silence third-party warnings (pymatgen, torch, jobflow) that are noise for CLI users, and show
    contactflow's own progress messages (INFO) on stderr."""
    import logging

    from rich.logging import RichHandler

    for cat in (UserWarning, DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=cat)
    logger = logging.getLogger("contactflow")
    if not logger.handlers:
        logger.addHandler(RichHandler(console=err_console, show_path=False, show_time=True))
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _version_callback(value: bool):
    if value:
        console.print(f"contactflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                       help="Print the version and exit.")):
    """contactflow command line."""
    quiet_libraries()


def fmt_cell(v) -> str:
    """One table cell: floats to 3 decimals, None as an em dash."""
    if isinstance(v, float):
        return f"{v:.3f}"
    return "—" if v is None else str(v)


def check_format(fmt: str) -> None:
    """Raise a ContactflowError naming the valid formats."""
    if fmt not in FORMATS:
        raise ContactflowError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")


def emit(docs: list[dict], fmt: str, columns: list[tuple[str, str]], title: str) -> None:
    """Print documents as a rich table, a JSON list or CSV (selected columns)."""
    check_format(fmt)
    if fmt == "json":
        sys.stdout.write(json.dumps(docs, indent=2, default=lambda o: o.isoformat() if isinstance(o, datetime) else str(o)) + "\n")
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow([c for c, _ in columns])
        for d in docs:
            w.writerow([d.get(c) for c, _ in columns])
        sys.stdout.write(buf.getvalue())
    else:
        table = Table(title=title)
        for _, head in columns:
            table.add_column(head)
        for d in docs:
            table.add_row(*[fmt_cell(d.get(c)) for c, _ in columns])
        console.print(table)
