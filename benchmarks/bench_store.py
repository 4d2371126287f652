"""Store overhead: 1,000 AdhesionDoc results written (one upsert each) and read back through
``ContactStore`` vs raw pymongo on the same embedded server.

Both sides use the same write concern (``j=True``: acknowledged means journaled), the same indexes
(unique ``doc_key`` + the query indexes of the ``adhesion`` kind) and upsert one document per call,
as jobs do. The raw side starts from ready-made dicts (serialisation is not timed for it); the
contactflow side starts from the pydantic documents, so its time includes serialisation, key lookup
and error mapping. Writes alternate between the two sides document by document (the disk's fsync latency on a shared
machine drifts by 2x within a minute; interleaving gives both sides the same conditions); reads
alternate too; each round uses fresh databases. Client CPU time per write is reported as well: it
is the layer's own cost, which the fsync-bound wall time hides.

Run: ``.venv/bin/python benchmarks/bench_store.py [--n 1000] [--rounds 3]``. Prints the ratio
(target ≤ 1.3) and appends a JSON row to ``benchmarks/results/bench_store.json``.
"""

import argparse
import json
import platform
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pymongo

from contactflow.schemas import AdhesionDoc, Provenance
from contactflow.store import ContactStore, StoreSettings, embedded, kind_of

RESULTS = Path(__file__).resolve().parent / "results" / "bench_store.json"
TARGET = 1.3


def make_docs(n: int) -> list[AdhesionDoc]:
    """``n`` realistic adhesion results (settings, relax steps, provenance with versions and times)."""
    t0 = datetime(2025, 6, 1, tzinfo=timezone.utc)
    docs = []
    for i in range(n):
        prov = Provenance(
            code_versions={"contactflow": "0.1.0", "ase": "3.29.0", "torch": "2.13.0", "chgnet": "0.4.2",
                           "torch-dftd": "0.5.3"},
            engine="chgnet+d3", device="cpu", model_hash="sha256:0123456789abcdef",
            started_at=t0 + timedelta(seconds=10 * i), finished_at=t0 + timedelta(seconds=10 * i + 7),
            wall_time_s=7.0, job_uuid=f"{i:08d}-0000-0000-0000-000000000000",
        )
        docs.append(AdhesionDoc(
            doc_key=f"adh-{i:06d}", interface_id=f"iface-{i // 10:05d}", recipe_name="si_graphite",
            system="Si/C", engine="chgnet+d3",
            settings={"relax": True, "fmax": 0.05, "max_steps": 300, "shift": [0.1 * (i % 10), 0.0]},
            state="successful", area_A2=61.2 + i % 7, strain_pct=1.1, n_atoms=68 + i % 5,
            w_sep_rigid_J_per_m2=0.5 + 1e-4 * i, w_sep_J_per_m2=0.45 + 1e-4 * i,
            e_interface_eV=-400.0 - i * 1e-3, e_film_eV=-170.0, e_substrate_eV=-225.0, relaxed=True,
            relax_converged=True, relax_steps={"interface": 40, "film": 12, "substrate": 9},
            fmax_eV_per_A=0.05, interface_gap_A=3.3, provenance=prov,
        ))
    return docs


def interleaved_round(store: ContactStore, raw_coll, docs: list[AdhesionDoc], dicts: list[dict],
                      first_cf: bool, n_reads: int = 3) -> dict[str, float]:
    """Write every document through both sides, alternating per document (so both see the same
    server and disk conditions), then read all back ``n_reads`` times each, alternating too.

    Returns wall and client-CPU seconds per side (writes summed, reads: median of the repeats).
    """
    key = kind_of("adhesion").key
    wall = {"cf": 0.0, "raw": 0.0}
    cpu = {"cf": 0.0, "raw": 0.0}

    def cf_write(i):
        store.upsert(docs[i])

    def raw_write(i):
        d = dicts[i]
        raw_coll.replace_one({key: d[key]}, d, upsert=True)

    for i in range(len(docs)):
        pair = (("cf", cf_write), ("raw", raw_write))
        if (i % 2 == 0) != first_cf:
            pair = pair[::-1]
        for side, fn in pair:
            c, t = time.process_time(), time.perf_counter()
            fn(i)
            wall[side] += time.perf_counter() - t
            cpu[side] += time.process_time() - c
    reads = {"cf": [], "raw": []}
    for r in range(n_reads):
        for side in (("cf", "raw") if r % 2 == 0 else ("raw", "cf")):
            t = time.perf_counter()
            got = store.find("adhesion") if side == "cf" else list(raw_coll.find({}, {"_id": 0}))
            reads[side].append(time.perf_counter() - t)
            assert len(got) == len(docs), f"{side}: read back {len(got)} of {len(docs)} documents"
    return {
        "cf_write_s": wall["cf"], "raw_write_s": wall["raw"],
        "cf_write_cpu_s": cpu["cf"], "raw_write_cpu_s": cpu["raw"],
        "cf_read_s": statistics.median(reads["cf"]), "raw_read_s": statistics.median(reads["raw"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="documents per side and round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (alternating order)")
    args = ap.parse_args()

    docs = make_docs(args.n)
    dicts = [d.model_dump() for d in docs]
    kind = kind_of("adhesion")
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench_store_") as home:
        st = embedded.start_server(Path(home))
        try:
            for r in range(args.rounds):
                store = ContactStore(StoreSettings(st.uri, f"bench_cf_{r}", "env"))
                with pymongo.MongoClient(st.uri, journal=True, tz_aware=True) as client:
                    raw_coll = client[f"bench_raw_{r}"][kind.name]
                    raw_coll.create_index(kind.key, unique=True)  # the same indexes ContactStore makes
                    for f in kind.indexes:
                        raw_coll.create_index(f)
                    res = interleaved_round(store, raw_coll, docs, dicts, first_cf=r % 2 == 0)
                store.close()
                res["ratio"] = (res["cf_write_s"] + res["cf_read_s"]) / (res["raw_write_s"] + res["raw_read_s"])
                rounds.append(res)
                print(f"round {r}: write contactflow {res['cf_write_s']:.3f} s (client CPU "
                      f"{res['cf_write_cpu_s']:.3f} s), raw {res['raw_write_s']:.3f} s (client CPU "
                      f"{res['raw_write_cpu_s']:.3f} s); read all contactflow {res['cf_read_s']:.3f} s, "
                      f"raw {res['raw_read_s']:.3f} s; ratio {res['ratio']:.3f}")
        finally:
            embedded.stop_server(Path(home))

    def med(k):
        return statistics.median(r[k] for r in rounds)

    cf, raw = med("cf_write_s") + med("cf_read_s"), med("raw_write_s") + med("raw_read_s")
    ratio = cf / raw
    cpu_ratio = med("cf_write_cpu_s") / med("raw_write_cpu_s")
    print(f"bench_store: {args.n} upserts (j=True) + find all, median of {args.rounds} rounds: "
          f"contactflow {cf:.3f} s ({1e3 * cf / args.n:.2f} ms/doc), raw pymongo {raw:.3f} s -> "
          f"ratio {ratio:.3f} (target <= {TARGET}: {'PASS' if ratio <= TARGET else 'FAIL'}); "
          f"client CPU per write: contactflow {1e6 * med('cf_write_cpu_s') / args.n:.0f} us, "
          f"raw {1e6 * med('raw_write_cpu_s') / args.n:.0f} us ({cpu_ratio:.2f}x)")
    row = {
        "bench": "bench_store", "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "n_docs": args.n, "rounds": rounds, "median_contactflow_s": cf,
        "median_raw_pymongo_s": raw, "ratio": ratio, "client_cpu_ratio": cpu_ratio, "target": TARGET,
        "write_concern": "j=True",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
