"""ContactStore on the real embedded server: idempotent upserts, unique keys, serialisation, jobflow
JobStore, and the errors an unreachable or malformed URI gives."""

import os
import signal
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from jobflow import Flow, job, run_locally
from monty.json import jsanitize
from pymongo.errors import DuplicateKeyError

from contactflow.errors import ConfigError, ContactflowError, StoreUnavailableError
from contactflow.schemas import AdhesionDoc, InterfaceDoc, Provenance
from contactflow.store import ContactStore, StoreSettings, embedded, kind_of

PASSWORD = "s3cretPW"


def closed_port() -> int:
    """A localhost port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def adhesion_doc(key: str = "adh-1", w_sep: float = 0.42, **kw) -> AdhesionDoc:
    fields = dict(
        doc_key=key, interface_id="iface-1", recipe_name="si_graphite", system="Si/C", engine="chgnet+d3",
        settings={"relax": True}, state="successful", area_A2=61.2, strain_pct=1.1, n_atoms=68,
        w_sep_rigid_J_per_m2=w_sep + 0.05, w_sep_J_per_m2=w_sep, relaxed=True,
        provenance=Provenance(engine="chgnet+d3", started_at=datetime(2025, 1, 2, 3, 4, 5, 123000, timezone.utc)),
    )
    fields.update(kw)
    return AdhesionDoc(**fields)


def tiny_interface():
    """A 4-atom graphene bilayer as a pymatgen Interface (a real structure for InterfaceDoc fixtures)."""
    import numpy as np
    from pymatgen.core import Lattice
    from pymatgen.core.interface import Interface

    a, c = 2.46, 20.0
    latt = Lattice([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])
    frac = [[0, 0, 0.3], [1 / 3, 2 / 3, 0.3], [1 / 3, 2 / 3, 0.4675], [2 / 3, 1 / 3, 0.4675]]
    return Interface(latt, ["C"] * 4, frac, site_properties={"interface_label": ["substrate"] * 2 + ["film"] * 2})


def interface_doc(iid: str = "iface-1") -> InterfaceDoc:
    return InterfaceDoc(
        interface_id=iid, recipe_name="si_graphite", system="Si/C", film_formula="Si", substrate_formula="C",
        film_miller=[1, 1, 1], substrate_miller=[0, 0, 1], termination=["Si_P6/mmm_1", "C_P6/mmm_2"],
        match_index=0, area_A2=61.2, strain_pct=1.1, von_mises_strain_pct=0.9, n_atoms=68, n_film_atoms=32,
        n_substrate_atoms=36, composition={"Si": 32.0, "C": 36.0}, structure=tiny_interface(),
    )


def test_upsert_twice_leaves_one_document(store):
    doc = adhesion_doc()
    assert store.upsert(doc) == "adh-1"
    assert store.upsert(doc) == "adh-1"
    assert store.count("adhesion") == 1
    # same key, new value: replaced in place, still one document
    store.upsert(adhesion_doc(w_sep=0.30))
    assert store.count("adhesion") == 1
    assert store.get("adhesion", "adh-1")["w_sep_J_per_m2"] == pytest.approx(0.30)


def test_round_trip_is_lossless(store):
    doc = adhesion_doc(state="failed", failure_reason="relaxation did not reach fmax in 200 steps",
                       w_sep_J_per_m2=None, w_sep_rigid_J_per_m2=None, relax_steps={"interface": 200})
    store.upsert(doc)
    back = store.get("adhesion", doc.doc_key)
    assert "_id" not in back
    assert AdhesionDoc.model_validate(back) == doc
    assert back["provenance"]["started_at"] == doc.provenance.started_at  # tz-aware datetime kept


def test_numpy_values_are_stored_as_plain_numbers(store):
    doc = adhesion_doc(settings={"shifts": np.array([0.0, 0.25, 0.5]), "fmax": np.float32(0.05),
                                 "n": np.int64(3), "nested": [{"x": np.float64(1.5)}]})
    store.upsert(doc)
    s = store.get("adhesion", doc.doc_key)["settings"]
    assert s["shifts"] == [0.0, 0.25, 0.5]
    assert s["fmax"] == pytest.approx(0.05) and s["n"] == 3 and s["nested"] == [{"x": 1.5}]
    assert type(s["n"]) is int


def test_to_mongo_matches_jsanitize_on_fast_and_fallback_paths():
    """The BSON-ready fast path must give what the generic jsanitize walk gives."""
    plain = adhesion_doc()
    mixed = adhesion_doc(settings={"a": np.arange(3), "b": np.float32(0.5), "model": Path("/m/x.model"),
                                   "t": (1, 2)})
    for doc in (plain, mixed):
        assert ContactStore.to_mongo(doc) == jsanitize(doc.model_dump(), strict=False, allow_bson=True)
    assert ContactStore.to_mongo(mixed)["settings"] == {"a": [0, 1, 2], "b": 0.5, "model": "/m/x.model",
                                                         "t": [1, 2]}


def test_unique_index_rejects_raw_duplicates(store):
    info = store.collection("adhesion").index_information()
    assert info["doc_key_unique"]["unique"] is True
    assert info["doc_key_unique"]["key"] == [("doc_key", 1)]
    for field in kind_of("adhesion").indexes:
        assert f"{field}_1" in info
    store.upsert(adhesion_doc())
    with pytest.raises(DuplicateKeyError):
        store.collection("adhesion").insert_one({"doc_key": "adh-1", "w_sep_J_per_m2": 9.9})
    assert store.get("adhesion", "adh-1")["w_sep_J_per_m2"] == pytest.approx(0.42)


def test_upsert_many_mixed_kinds_is_idempotent(store):
    docs = [interface_doc("iface-1"), adhesion_doc("a1"), interface_doc("iface-2"), adhesion_doc("a2"),
            adhesion_doc("a3", w_sep=0.1)]
    assert store.upsert_many(docs) == 5
    assert store.upsert_many(docs) == 5
    assert store.count("interfaces") == 2
    assert store.count("adhesion") == 3
    assert store.get("interfaces", "iface-2")["composition"] == {"Si": 32.0, "C": 36.0}
    best = store.find("adhesion", {"w_sep_J_per_m2": {"$gt": 0.2}}, sort=[("doc_key", 1)])
    assert [d["doc_key"] for d in best] == ["a1", "a2"]
    assert store.upsert_many([]) == 0


def test_unknown_kind_names_valid_kinds(store):
    with pytest.raises(ContactflowError, match="unknown document kind 'nope'; valid: .*adhesion"):
        store.find("nope")
    with pytest.raises(ContactflowError, match="Provenance is not a stored document type"):
        store.upsert(Provenance())


@job
def add(a: float, b: float) -> float:
    """Tiny job for the JobStore test."""
    return a + b


@job(data=True)
def big_list(n: int) -> list[float]:
    """Output routed to the GridFS 'data' store."""
    return [0.5 * i for i in range(n)]


def test_jobstore_runs_jobflow_and_reads_outputs_back(store):
    j1 = add(1.5, 2.0)
    j2 = add(j1.output, 10)
    j3 = big_list(20000)
    js = store.jobstore()
    responses = run_locally(Flow([j1, j2, j3]), store=js, ensure_success=True)
    assert responses[j2.uuid][1].output == pytest.approx(13.5)
    js.connect()
    try:
        assert js.get_output(j1.uuid) == pytest.approx(3.5)
        assert js.get_output(j2.uuid) == pytest.approx(13.5)
        out = js.get_output(j3.uuid, load=True)
        assert len(out) == 20000 and out[-1] == pytest.approx(9999.5)
    finally:
        js.close()
    # the outputs live in the same database as the result documents
    assert store.db["jobs"].count_documents({}) == 3
    assert store.db["jobflow_data.files"].count_documents({}) >= 1


def test_unreachable_uri_fails_fast_with_one_line_and_no_password():
    port = closed_port()
    settings = StoreSettings(f"mongodb://alice:{PASSWORD}@127.0.0.1:{port}/", "x", "env")
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailableError) as err:
        ContactStore(settings, timeout_ms=300)
    assert time.monotonic() - t0 < 5.0
    msg = str(err.value)
    assert "\n" not in msg
    assert f"127.0.0.1:{port}" in msg and "alice:***@" in msg
    assert PASSWORD not in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no pymongo chain with the URI


@pytest.mark.parametrize(
    "uri", [f"mongodb://alice:{PASSWORD}@127.0.0.1:99999/", f"mongodb://alice:{PASSWORD}@[::1/",
            "mongodb://alice:s3c@retPW@127.0.0.1:1/"],
    ids=["port-range", "ipv6-literal", "unescaped-at"],
)
def test_malformed_uri_is_config_error_without_password(uri):
    with pytest.raises(ConfigError, match="invalid MongoDB URI .*quote_plus") as err:
        ContactStore(StoreSettings(uri, "x", "env"), timeout_ms=300)
    msg = str(err.value)
    assert PASSWORD not in msg and "s3c@retPW" not in msg
    assert "\n" not in msg


def test_rejected_query_is_a_one_line_contactflow_error(store):
    store.upsert(adhesion_doc())
    with pytest.raises(ContactflowError, match=r"store rejected querying adhesion: unknown operator: \$foo") as err:
        store.find("adhesion", {"w_sep_J_per_m2": {"$foo": 1}})
    assert "\n" not in str(err.value)
    with pytest.raises(ContactflowError, match="store rejected counting adhesion"):
        store.count("adhesion", {"w_sep_J_per_m2": {"$foo": 1}})


@pytest.mark.slow
def test_server_gone_mid_session_gives_store_unavailable(tmp_path):
    st = embedded.start_server(tmp_path)
    try:
        s = ContactStore(StoreSettings(st.uri, "gone", "env"), timeout_ms=300)
        s.upsert(adhesion_doc("before"))
        os.kill(st.pid, signal.SIGKILL)
        embedded._reap(st.pid)
        calls = {
            "upsert": lambda: s.upsert(adhesion_doc("after")),
            "upsert_many": lambda: s.upsert_many([adhesion_doc("a2"), interface_doc()]),
            "find": lambda: s.find("adhesion"),
            "get": lambda: s.get("adhesion", "before"),
            "count": lambda: s.count("adhesion"),
        }
        for name, call in calls.items():
            with pytest.raises(StoreUnavailableError, match=f"store at {st.uri} stopped answering") as err:
                call()
            assert "\n" not in str(err.value) and len(str(err.value)) < 400, name
        s.close()
    finally:
        embedded.stop_server(tmp_path)


@pytest.mark.parametrize("query, secret", [
    ("tls=true&tlsCertificateKeyFilePassword=k3yPW%21", "k3yPW!"),
    ("tls=true&tlsCertificateKeyFile=/nonexistent.pem&tlsCertificateKeyFilePassword=k3yPW", "k3yPW"),
    ("authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:FwoGZXIvsessTok", "FwoGZXIvsessTok"),
    ("authMechanismProperties=AWS_SESSION_TOKEN:FwoGZXIvsessTok", "FwoGZXIvsessTok"),
], ids=["tls-password", "tls-password-bad-file", "aws-token", "aws-token-without-mechanism"])
def test_connection_errors_never_show_secret_query_options(query, secret):
    """Whatever pymongo makes of these options (an invalid-URI error, an unreachable server), the one-line
    error has the host and no secret (issue 17: they were printed verbatim)."""
    uri = f"mongodb://AKIAUSER:{PASSWORD}@127.0.0.1:{closed_port()}/?{query}"
    with pytest.raises((ConfigError, StoreUnavailableError)) as err:
        ContactStore(StoreSettings(uri, "x", "env"), timeout_ms=300)
    msg = str(err.value)
    assert "127.0.0.1" in msg and "\n" not in msg
    for s in (secret, secret.replace("!", "%21"), PASSWORD):
        assert s not in msg
