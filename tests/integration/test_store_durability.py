"""Acknowledged means durable: kill -9 the embedded server while a client writes, restart it on the
same data directory, and find every acknowledged document."""

import os
import signal
import subprocess
import sys
import time

import pymongo
import pytest

from contactflow.store import embedded

WRITER = r"""
import sys
from contactflow.schemas import AdhesionDoc
from contactflow.store import ContactStore, StoreSettings

uri, db, out = sys.argv[1:4]
store = ContactStore(StoreSettings(uri, db, "env"), timeout_ms=1000)
with open(out, "w") as fh:
    fh.write("ready\n")
    fh.flush()
    i = 0
    while True:
        key = f"k{i:06d}"
        doc = AdhesionDoc(doc_key=key, interface_id=f"iface-{i % 7}", engine="chgnet", state="successful",
                          area_A2=60.0, n_atoms=64, relaxed=False, w_sep_J_per_m2=i * 1e-3)
        try:
            store.upsert(doc)  # returns once the server acknowledged the write (j=True)
        except Exception as exc:
            fh.write(f"stopped {type(exc).__name__}\n")
            break
        fh.write(key + "\n")
        fh.flush()
        i += 1
"""


def _wait_for(pred, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_kill_9_mid_write_loses_no_acknowledged_document(tmp_path):
    home = tmp_path / "home"
    log = tmp_path / "acked.txt"
    st = embedded.start_server(home)
    writer = None
    try:
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, st.uri, "durability", str(log)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        _wait_for(lambda: log.exists() and log.read_text().startswith("ready") or writer.poll() is not None,
                  60, "the writer to connect")
        assert writer.poll() is None, writer.communicate()[0]
        time.sleep(2.0)
        os.kill(st.pid, signal.SIGKILL)  # mid-write: the writer is inside its loop
        out, _ = writer.communicate(timeout=60)
        lines = log.read_text().split()
        assert lines[-1] == "StoreUnavailableError", (lines[-3:], out)
        acked = [k for k in lines if k.startswith("k")]
        assert len(acked) > 20, f"only {len(acked)} writes in 2 s; the test did not exercise the server"
    finally:
        if writer and writer.poll() is None:
            writer.kill()
        embedded._reap(st.pid)

    st2 = embedded.start_server(home)  # the old server.json names a dead pid: a new server, same data
    try:
        assert st2.pid != st.pid and st2.data_dir == st.data_dir
        with pymongo.MongoClient(st2.uri) as c:
            coll = c.durability.adhesion
            stored = {d["doc_key"]: d["w_sep_J_per_m2"] for d in coll.find({}, {"_id": 0, "doc_key": 1,
                                                                                "w_sep_J_per_m2": 1})}
        missing = [k for k in acked if k not in stored]
        print(f"acknowledged {len(acked)}, stored after kill -9 + restart {len(stored)}, lost {len(missing)}")
        assert missing == [], f"{len(missing)} of {len(acked)} acknowledged documents lost: {missing[:5]}"
        # at most the one write in flight when the server died is extra
        assert len(stored) - len(acked) in (0, 1)
        for k in acked:
            assert stored[k] == pytest.approx(int(k[1:]) * 1e-3)
    finally:
        embedded.stop_server(home)
