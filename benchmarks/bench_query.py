"""Query latency on a store of 100,000 adhesion documents with contactflow's indexes vs without, and
report generation time on that store.

The same documents go into two collections on one embedded server: ``adhesion``, opened through
``ContactStore`` first so contactflow's indexes (unique ``doc_key`` + the kind's query indexes)
exist and are maintained while inserting, and ``adhesion_noindex`` with only MongoDB's ``_id``
index. (Indexes are created when the store opens, on empty collections: SecantusDB builds an index
over an existing collection at ~4 ms per document, 20 s for 5,000, so building them afterwards is
not an option at 100,000.) The queries users type (``--recipe``, ``--recipe --engine``,
``--where 'w_sep_J_per_m2>…'``, one interface, ``--system … --where 'state==failed'``) run as the
filters ``contactflow.store.queries.build_filter`` makes, through raw pymongo on both collections
and through ``contactflow.store.queries.query`` (the layer users call) on the indexed one. Latency
is the median of the repeats. Last, ``contactflow report RECIPE`` is built on the
100,000-document store with each ``--overview`` scope (auto = same system above 20,000 documents;
all = every recipe, a full scan; none).

Run: ``.venv/bin/python benchmarks/bench_query.py [--n 100000] [--repeats 5]``. Prints the ratio
(no indexes / indexes) per query and appends a JSON row to ``benchmarks/results/bench_query.json``.
"""

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from contactflow.schemas import AdhesionDoc, Provenance
from contactflow.store import ContactStore, StoreSettings, embedded
from contactflow.store.queries import build_filter, query

RESULTS = Path(__file__).resolve().parent / "results" / "bench_query.json"
SYSTEMS = ["Si/C", "SnO2/C", "Fe3O4/C", "LiF/C", "SiO2/C", "Si/SiC"]
ENGINES = ["chgnet+d3", "chgnet", "cp2k:pbe-d3", "reaxff:Fe_O_C_H", "mace:potentials/si_c.model"]


def make_docs(n: int, n_recipes: int = 200, seed: int = 3) -> list[dict]:
    """``n`` adhesion results over ``n_recipes`` recipes (pydantic documents, serialised as stored)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = i % n_recipes
        engine = ENGINES[(i // n_recipes) % len(ENGINES)]
        failed = rng.random() < 0.05
        w = None if failed else round(rng.uniform(0.05, 4.0), 5)
        doc = AdhesionDoc(
            doc_key=f"ad-{i:07d}", interface_id=f"if-{r:03d}-{(i // (n_recipes * len(ENGINES))) % 100:03d}",
            recipe_name=f"recipe_{r:03d}", system=SYSTEMS[r % len(SYSTEMS)], engine=engine,
            settings={"relax": True, "fmax": 0.05}, state="failed" if failed else "successful",
            failure_reason="relaxation did not reach fmax" if failed else None, area_A2=60 + i % 190,
            strain_pct=(i % 300) / 100, n_atoms=60 + i % 340, w_sep_rigid_J_per_m2=w, w_sep_J_per_m2=w,
            relaxed=True, provenance=Provenance(engine=engine, device="cpu", wall_time_s=30.0),
        )
        out.append(ContactStore.to_mongo(doc))
    return out


QUERIES = {
    "--recipe": dict(recipe="recipe_017"),
    "--recipe --engine": dict(recipe="recipe_017", engine="cp2k:pbe-d3"),
    "--where w_sep>3.98": dict(where="w_sep_J_per_m2 > 3.98"),
    "interface_id ==": dict(where="interface_id == 'if-017-001'"),
    "--system --where state==failed": dict(system="LiF/C", where="state == failed"),
}


def time_raw(coll, flt: dict, repeats: int) -> tuple[float, int]:
    ts, n = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        n = len(list(coll.find(flt, {"_id": 0})))
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--repeats-unindexed", type=int, default=3)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench_query_"))
    st = embedded.start_server(home)
    try:
        store = ContactStore(StoreSettings(st.uri, "bench_query", "env"))  # creates contactflow's indexes
        coll = store.collection("adhesion")
        bare = store.db["adhesion_noindex"]
        t = time.perf_counter()
        docs = make_docs(args.n)
        t_make = time.perf_counter() - t
        t_insert = {}
        for name, c in (("indexed", coll), ("no_index", bare)):
            t = time.perf_counter()
            for i in range(0, len(docs), 5000):
                c.insert_many([dict(d) for d in docs[i:i + 5000]], ordered=False)
            t_insert[name] = time.perf_counter() - t
        print(f"{args.n} documents built in {t_make:.1f} s; inserted in {t_insert['indexed']:.1f} s with "
              f"contactflow's {len(coll.index_information())} indexes, {t_insert['no_index']:.1f} s with _id only")
        filters = {name: build_filter("adhesion", **kw) for name, kw in QUERIES.items()}
        plain = {name: time_raw(bare, f, args.repeats_unindexed) for name, f in filters.items()}
        indexed = {name: time_raw(coll, f, args.repeats) for name, f in filters.items()}
        layer = {}
        for name, kw in QUERIES.items():
            ts = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                got = query(store, "adhesion", **kw)
                ts.append(time.perf_counter() - t)
            layer[name] = (statistics.median(ts), len(got))
        print(f"\n{'query':34s} {'docs':>6s} {'no index ms':>12s} {'indexed ms':>11s} {'query() ms':>11s} {'ratio':>8s}")
        rows = []
        for name in QUERIES:
            (t0, n0), (t1, n1), (t2, n2) = plain[name], indexed[name], layer[name]
            assert n0 == n1 == n2, (name, n0, n1, n2)
            ratio = t0 / t2
            rows.append({"query": name, "n_docs": n0, "no_index_ms": t0 * 1e3, "indexed_raw_ms": t1 * 1e3,
                         "indexed_query_layer_ms": t2 * 1e3, "ratio_no_index_over_layer": ratio})
            print(f"{name:34s} {n0:6d} {t0 * 1e3:12.1f} {t1 * 1e3:11.1f} {t2 * 1e3:11.1f} {ratio:7.0f}x")

        from contactflow.continuum.report import build_report

        t_report = {}
        for scope, reps in (("auto", 3), ("none", 3), ("all", 1)):
            ts = []
            for _ in range(reps):
                t = time.perf_counter()
                html = build_report(store, "recipe_017", overview=scope)
                ts.append(time.perf_counter() - t)
            t_report[scope] = statistics.median(ts)
            print(f"report recipe_017 on {args.n} documents, overview={scope}: {t_report[scope]:.2f} s "
                  f"({len(html) / 1024:.0f} KiB)")
        store.close()
    finally:
        embedded.stop_server(home)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    row = {"bench": "bench_query", "when": datetime.now(timezone.utc).isoformat(), "host": platform.node(),
           "n_docs": args.n, "insert_s": t_insert, "queries": rows,
           "report_s": t_report,
           "median_ratio": statistics.median(r["ratio_no_index_over_layer"] for r in rows)}
    with RESULTS.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(f"median ratio (no index / indexed via query()): {row['median_ratio']:.0f}x -> {RESULTS}")


if __name__ == "__main__":
    main()
