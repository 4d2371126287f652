"""``contactflow store start|stop|status``."""

import typer
from rich.table import Table

from contactflow.cli.common import app, console

store_app = typer.Typer(help="Manage the embedded MongoDB-protocol store.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("start")
def store_start():
    """Start (or reuse) the embedded store and print its URI."""
    from contactflow.store import embedded, load_settings

    s = load_settings()
    if not s.embedded:
        console.print(f"a MongoDB URI is configured ({s.source}); no embedded server needed")
        return
    st = embedded.start_server()
    console.print(f"embedded store running: {st.uri} (pid {st.pid}, data {st.data_dir})")


@store_app.command("stop")
def store_stop():
    """Stop the embedded store cleanly."""
    from contactflow.store import embedded

    console.print("stopped" if embedded.stop_server() else "no embedded store was running")


@store_app.command("status")
def store_status():
    """Where the store is, whether it answers, and document counts."""
    from contactflow.store import KINDS, embedded, load_settings, open_store, redact_uri

    s = load_settings()
    if s.embedded:
        st = embedded.read_state()
        if st is None:
            console.print("embedded store: not running (it starts on the next command that needs it)")
            return
        console.print(f"embedded store: running at {st.uri} (pid {st.pid}, data {st.data_dir})")
    else:
        console.print(f"store: {redact_uri(s.uri)} (from {s.source})")
    with open_store() as store:
        table = Table(title=f"database '{s.database}'")
        table.add_column("collection")
        table.add_column("documents", justify="right")
        for name in KINDS:
            table.add_row(name, str(store.count(name)))
        console.print(table)
