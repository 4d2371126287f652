"""Shared CLI objects: the root Typer app, consoles and output helpers."""

import csv
import io
import json
import sys
import warnings
from datetime import datetime

from pymongo.errors import ConnectionFailure
import typer
from rich.console import Console
from rich.table import Table

from pathlib import Path

from rich.markup import escape
from typer.core import TyperGroup

from contactflow import __version__
from contactflow.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, ContactflowError


class Interrupted(ContactflowError):
    """The user pressed Ctrl-C (SIGINT); what is already stored stays stored."""

    exit_code = EXIT_INTERRUPTED


class _RootGroup(TyperGroup):
    """The root command group: turns Ctrl-C inside any command into :class:`Interrupted` (typer would
    print ``Aborted!`` and exit 1)."""

    def invoke(self, ctx):  # noqa: D102
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted("stopped by Ctrl-C") from None


app = typer.Typer(help="contactflow: contact interfaces in swelling anodes, from recipe to continuum.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False, cls=_RootGroup)

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


def print_error(message: str, prefix: str = "error") -> None:
    """Print one line ``<prefix>: message`` on stderr (message escaped: it may quote user input)."""
    one_line = " ".join(str(message).split())
    err_console.print(f"[red]{prefix}:[/red] {escape(one_line)}", highlight=False, soft_wrap=True)


def _os_error_text(exc: OSError) -> str:
    where = " → ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"{text}: {where}" if where else text


def run_cli(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code instead of exiting.

    Every user error (:class:`~contactflow.errors.ContactflowError`) becomes one line ``error: …`` and
    its ``exit_code`` (2 for bad input, 3 for failed calculations, see :mod:`contactflow.errors`);
    Ctrl-C becomes one line ``interrupted: …`` and 130; an operating-system error (a path that cannot be
    read or written) one line and 2. Anything else is a bug and keeps its traceback.

    Parameters
    ----------
    argv
        Arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code.
    """
    try:
        app(args=argv, prog_name="contactflow")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except (Interrupted, KeyboardInterrupt):
        print_error("stopped by Ctrl-C (results already stored are kept; re-running a recipe skips nothing "
                    "and overwrites its documents idempotently)", prefix="interrupted")
        return EXIT_INTERRUPTED
    except ContactflowError as exc:
        print_error(str(exc))
        return exc.exit_code
    except OSError as exc:
        print_error(_os_error_text(exc))
        return EXIT_BAD_INPUT
    except ConnectionFailure as exc:  # the store went away inside a library (jobflow, FireWorks) call
        print_error(f"the store stopped answering: {type(exc).__name__}; results already stored are kept "
                    "(the next command repairs the typed views)")
        return EXIT_BAD_INPUT
    return 0


def check_output_path(path: Path, force: bool = False, option: str = "--out") -> Path:
    """Check, before any work is done, that ``path`` may be written as an output file.

    Parameters
    ----------
    path
        The output file.
    force
        Allow replacing an existing file.
    option
        The option that named the path (for the message).

    Returns
    -------
    Path
        ``path``, with its parent directory created.

    Raises
    ------
    ContactflowError
        If the path is a directory, is an existing regular file and ``force`` is false, or its folder
        cannot be created or written. An existing device or pipe (``/dev/null``) is accepted.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise ContactflowError(f"{option} {path} is a directory; give a file path, e.g. {path / 'out.txt'}")
    if path.exists() and not path.is_file():
        return path  # a device or pipe (/dev/null, /dev/stdout, a FIFO) is written, never replaced
    if path.exists() and not force:
        raise ContactflowError(f"{option} {path} already exists; pass --force to overwrite it or choose another path")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ContactflowError(f"cannot create the folder of {option} {path}: {_os_error_text(exc)}") from None
    if not parent.is_dir():
        raise ContactflowError(f"cannot write {option} {path}: {parent} is not a directory")
    try:  # a real write probe: os.access says yes to root even on a read-only file system
        import tempfile

        with tempfile.NamedTemporaryFile(dir=parent, prefix=".contactflow-probe-"):
            pass
    except OSError as exc:
        raise ContactflowError(f"cannot write {option} {path}: folder {parent} is not writable "
                               f"({exc.strerror or exc})") from None
    return path


def write_output(path: Path, text: str, force: bool = False, option: str = "--out") -> Path:
    """Write ``text`` to ``path`` (checked by :func:`check_output_path`) through a temporary file in the
    same folder, so an interrupted write never leaves half a file.

    Raises
    ------
    ContactflowError
        As :func:`check_output_path`, or if the write itself fails.
    """
    import os
    import tempfile

    path = check_output_path(path, force, option)
    if path.exists() and not path.is_file():  # /dev/null, a FIFO: write through, never replace the node
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise ContactflowError(f"cannot write {option} {path}: {_os_error_text(exc)}") from None
        return path
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ContactflowError(f"cannot write {option} {path}: {_os_error_text(exc)}") from None
    return path


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


from contactflow.api import parse_set_value  # noqa: E402,F401  (the pipeline's --set reader)


