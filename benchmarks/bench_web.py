"""The results browser's interfaces page on a store of 100,000 interface documents: server time of the
page vs the raw query it wraps, and (when Debian's chromium is installed) the page's first render in
the browser.

The documents are InterfaceDocs serialised as stored (every scalar field of the schema; the
``structure`` field is a 2-site stand-in, so the store stays small — the page never reads it: its
projection asks only for the table's columns). Each case is one page request as a user makes it
(filter in the ``--where`` language, sort column, page), timed through FastAPI's in-process test
client; the page's server time is the app's own ``Server-Timing`` (middleware, routing, parsing, count,
find, template; the client's transport is reported beside it), against the
same count + find (filter, projection, sort, skip, limit) run directly through pymongo. Latency is the
median of the repeats (raw and page alternate); the ratio is page / raw (target ≤ 1.5×).

Run: ``.venv/bin/python benchmarks/bench_web.py [--n 100000] [--repeats 5]``. Prints the ratio per case
and appends a JSON row to ``benchmarks/results/bench_web.json``.
"""

import argparse
import json
import os
import platform
import random
import shutil
import socket
import statistics
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from contactflow.store import ContactStore, StoreSettings, embedded
from contactflow.store.queries import build_filter
from contactflow.web import create_app, views

RESULTS = Path(__file__).resolve().parent / "results" / "bench_web.json"
SYSTEMS = [("Si", "C"), ("SnO2", "C"), ("Fe3O4", "C"), ("LiF", "C"), ("SiO2", "C"), ("Si", "SiC")]
STAND_IN = {"@module": "pymatgen.core.structure", "@class": "Structure", "charge": 0,
            "lattice": {"matrix": [[3.0, 0, 0], [0, 3.0, 0], [0, 0, 30.0]], "pbc": [True, True, True]},
            "sites": [{"species": [{"element": "Si", "occu": 1}], "abc": [0, 0, 0.5], "label": "Si",
                       "properties": {"interface_label": "film"}},
                      {"species": [{"element": "C", "occu": 1}], "abc": [0.5, 0.5, 0.4], "label": "C",
                       "properties": {"interface_label": "substrate"}}]}

CASES = {
    "first page (no filter)": dict(where="", sort="", order="asc", page=1),
    "one recipe": dict(where="recipe_name == recipe_017", sort="", order="asc", page=1),
    "range filter, sort by area desc, page 3": dict(where="strain_pct < 0.5 and n_atoms > 200", sort="area_A2",
                                                   order="desc", page=3),
    "system, sort by strain, page 5": dict(where="system == LiF/C", sort="strain_pct", order="asc", page=5),
}


def make_docs(n: int, n_recipes: int = 200, seed: int = 5) -> list[dict]:
    """``n`` interface documents over ``n_recipes`` recipes, as stored."""
    from contactflow.schemas.provenance import Provenance

    rng = random.Random(seed)
    prov = Provenance().model_dump()
    out = []
    for i in range(n):
        r = i % n_recipes
        film, sub = SYSTEMS[r % len(SYSTEMS)]
        n_film, n_sub = 8 + i % 120, 40 + i % 300
        out.append({
            "interface_id": f"if-{i:016x}", "recipe_name": f"recipe_{r:03d}", "recipe_hash": f"rc-{r:016x}",
            "system": f"{film}/{sub}", "film_formula": film, "substrate_formula": sub,
            "film_miller": [1, 1, 1], "substrate_miller": [0, 0, 1], "termination": [f"{film}_t{i % 3}", "C_t0"],
            "match_index": (i // n_recipes) % 50, "area_A2": round(rng.uniform(30, 250), 4),
            "strain_pct": round(rng.uniform(0, 3), 5), "von_mises_strain_pct": round(rng.uniform(0, 3), 5),
            "n_atoms": n_film + n_sub, "n_film_atoms": n_film, "n_substrate_atoms": n_sub,
            "composition": {film[:2]: float(n_film), "C": float(n_sub)}, "structure": STAND_IN, "provenance": prov,
        })
    return out


def time_it(fn, repeats: int) -> tuple[float, object]:
    ts, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def browser_first_render(app, url_path: str) -> float | None:
    """domContentLoaded of the page in Debian's headless chromium, ms (None without chromium)."""
    if not (os.path.exists("/usr/bin/chromium") and shutil.which("chromedriver")):
        return None
    import uvicorn
    from selenium import webdriver

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    os.environ["SE_OFFLINE"] = "true"
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for f in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--no-first-run"):
        opts.add_argument(f)
    drv = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=shutil.which("chromedriver")))
    try:
        times = []
        for _ in range(3):
            drv.get(f"http://127.0.0.1:{port}{url_path}")
            times.append(drv.execute_script(
                "var e = performance.getEntriesByType('navigation')[0]; return e.domContentLoadedEventEnd;"))
        return statistics.median(times)
    finally:
        drv.quit()
        srv.should_exit = True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--case", action="append", help="Only cases whose name contains this (repeatable).")
    args = ap.parse_args()
    cases = {k: v for k, v in CASES.items() if not args.case or any(c in k for c in args.case)}
    from fastapi.testclient import TestClient

    home = Path(tempfile.mkdtemp(prefix="bench_web_"))
    st = embedded.start_server(home)
    try:
        store = ContactStore(StoreSettings(st.uri, "bench_web", "env"))  # indexes exist before the inserts
        coll = store.collection("interfaces")
        docs = make_docs(args.n)
        t = time.perf_counter()
        for i in range(0, len(docs), 5000):
            coll.insert_many([dict(d) for d in docs[i:i + 5000]], ordered=False)
        t_insert = time.perf_counter() - t
        print(f"{args.n} interface documents inserted in {t_insert:.1f} s")
        app = create_app(store)
        client = TestClient(app, base_url="http://127.0.0.1")
        rows = []
        print(f"\n{'case':42s} {'rows':>5s} {'total':>7s} {'raw ms':>8s} {'page ms':>8s} {'ratio':>6s}")
        for name, c in cases.items():
            flt = build_filter("interfaces", where=c["where"] or None)
            spec = views.raw_query_args(flt, c["sort"], c["order"], c["page"], 50)

            def raw():
                total = coll.count_documents(flt) if flt else coll.estimated_document_count()
                got = list(coll.find(flt, {"_id": 0, **spec["projection"]}).sort(spec["sort"])
                           .skip(spec["skip"]).limit(50))
                return total, got

            params = {"where": c["where"], "sort": c["sort"], "order": c["order"], "page": c["page"]}

            def page():
                r = client.get("/interfaces", params=params)
                assert r.status_code == 200, r.text[:300]
                return r

            page()  # warm (template compile)
            # raw and page alternate, so that load from other processes on a shared machine falls on both
            raws, server, client_ts = [], [], []
            for _ in range(args.repeats):
                t_r, (total, got) = time_it(raw, 1)
                t_c, resp = time_it(page, 1)
                raws.append(t_r)
                client_ts.append(t_c)
                server.append(float(resp.headers["server-timing"].split("dur=")[1]) / 1e3)  # the app's own time
            t_raw, t_client = statistics.median(raws), statistics.median(client_ts)
            t_page, html = statistics.median(server), resp.text
            assert html.count('<a href="/interfaces/if-') == len(got), name
            ratio = t_page / t_raw
            rows.append({"case": name, "where": c["where"], "rows": len(got), "total": total,
                         "raw_ms": t_raw * 1e3, "page_ms": t_page * 1e3, "page_via_client_ms": t_client * 1e3,
                         "ratio_page_over_raw": ratio})
            print(f"{name:42s} {len(got):5d} {total:7d} {t_raw * 1e3:8.1f} {t_page * 1e3:8.1f} {ratio:5.2f}x")
        first_render = browser_first_render(app, "/interfaces?where=" + quote("recipe_name == recipe_017"))
        if first_render is not None:
            print(f"first render in headless chromium (DOMContentLoaded, one recipe): {first_render:.0f} ms")
        store.close()
    finally:
        embedded.stop_server(home)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    row = {"bench": "bench_web", "when": datetime.now(timezone.utc).isoformat(), "host": platform.node(),
           "n_docs": args.n, "insert_s": t_insert, "cases": rows, "browser_first_render_ms": first_render,
           "max_ratio": max(r["ratio_page_over_raw"] for r in rows),
           "median_ratio": statistics.median(r["ratio_page_over_raw"] for r in rows)}
    with RESULTS.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(f"page / raw query: median {row['median_ratio']:.2f}x, max {row['max_ratio']:.2f}x (target ≤ 1.5x) -> {RESULTS}")


if __name__ == "__main__":
    main()
