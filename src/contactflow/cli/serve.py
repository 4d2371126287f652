"""``contactflow serve``: the read-only results browser (:mod:`contactflow.web`) on this machine."""

import secrets

import typer

from contactflow.cli.common import app, console, err_console

LOCAL = ("127.0.0.1", "localhost", "::1")


@app.command("serve")
def serve(
    port: int = typer.Option(8765, "--port", "-p", min=1, max=65535, help="TCP port."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; anything but localhost needs the printed token."),
):
    """Browse the store in a web browser: interfaces (filter, sort, pages), one interface in 3D with its
    results, engines compared, the queue, and exports to download. Read-only."""
    import uvicorn

    from contactflow.store import open_store
    from contactflow.web import create_app

    local = host in LOCAL
    token = None if local else secrets.token_urlsafe(24)
    store = open_store()
    web = create_app(store, token=token, allowed_hosts=None if local else ["*"])
    shown = f"[{host}]" if ":" in host else host
    if token:
        err_console.print(f"binding to {host}: every request needs this token (printed once):", highlight=False)
        console.print(f"http://{shown}:{port}/interfaces?token={token}", highlight=False, soft_wrap=True)
    else:
        console.print(f"contactflow results at http://{shown}:{port}/  (read-only; Ctrl-C stops)", highlight=False)
    try:
        uvicorn.run(web, host=host, port=port, log_level="warning")
    finally:
        store.close()
