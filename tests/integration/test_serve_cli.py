"""``contactflow serve`` as users start it: localhost without a token; any other bind prints a token
once and refuses requests without it."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
EXE = shutil.which("contactflow", path=str(Path(sys.executable).parent)) or "contactflow"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def serve(host: str, port: int):
    proc = subprocess.Popen([EXE, "serve", "--host", host, "--port", str(port)], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # printed before the server starts listening
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return proc, line


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_serve_binds_local_freely_and_elsewhere_only_with_the_printed_token(store_uri, host):
    port = free_port()
    proc, line = serve(host, port)
    try:
        base = f"http://127.0.0.1:{port}"
        if host == "127.0.0.1":
            assert "read-only" in line
            assert status(f"{base}/interfaces") == 200
        else:
            token = re.search(r"token=([\w-]+)", line).group(1)
            assert status(f"{base}/interfaces") == 403
            assert status(f"{base}/interfaces?token=wrong") == 403
            assert status(f"{base}/interfaces?token={token}") == 200
    finally:
        proc.terminate()
        proc.wait(20)
