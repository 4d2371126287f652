"""Issue 17, re-run through the installed ``contactflow`` executable (console script → ``main`` →
``sys.exit``): careless and hostile inputs end in one line ``error: …`` and exit 2, never a traceback,
never a secret, never an overwritten file. (The other cases run in-process in tests/unit/cli.)"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXE = shutil.which("contactflow", path=str(Path(sys.executable).parent)) or "contactflow"
SECRET = "k3yPW-s3cret"


def test_hostile_inputs_end_in_one_line_and_exit_2(tmp_path):
    home = tmp_path / "home"
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    (tmp_path / "existing.txt").write_text("keep me")
    base = {k: v for k, v in os.environ.items() if k not in ("CONTACTFLOW_MONGO_URI", "CONTACTFLOW_DB")}
    base["CONTACTFLOW_HOME"] = str(home)
    cases = {
        # name: (args, extra env, text the one error line must contain)
        "non-utf8-recipe": (["recipes", "show", "latin1.yaml"], {}, "is not UTF-8 text"),
        "db-name": (["query", "adhesion"], {"CONTACTFLOW_DB": "a.b"}, "invalid database name 'a.b'"),
        "report-exists": (["report", "si_graphite", "--out", "existing.txt"], {}, "already exists; pass --force"),
        "export-exists": (["export", "czm", "si_graphite", "-o", "existing.txt"], {}, "already exists; pass --force"),
        "engine-repeat": (["demo", "--engine", "chgnet+d3+d3"], {}, "modifier +d3 given more than once"),
        "secret-uri": (["query", "adhesion"], {"CONTACTFLOW_MONGO_URI": f"http://db/?tlsCertificateKeyFilePassword={SECRET}"},
                       "tlsCertificateKeyFilePassword=***"),
    }
    procs = {name: subprocess.Popen([EXE, *args], env={**base, **extra}, cwd=tmp_path, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name, (args, extra, _) in cases.items()}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert proc.returncode == 2, (name, err)
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, err)
        assert cases[name][2] in lines[0], (name, lines[0])
        assert SECRET not in out + err
    assert (tmp_path / "existing.txt").read_text() == "keep me"
