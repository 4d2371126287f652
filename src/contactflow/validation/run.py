"""Run validation cases for engines through jobflow (the JobStore writes the ValidationDocs), tabulate
them (engine × case, signed errors) and summarise an engine's record."""

import json
from datetime import date

from jobflow import Flow

from contactflow.schemas.validation import ValidationCase
from contactflow.validation.cases import select

#: engines validated by default (every engine that runs here on the CPU in minutes)
DEFAULT_ENGINES = ("chgnet+d3", "mace:potentials/mlp/lisic")


def validation_flow(cases: list[ValidationCase], engines: list[str], device: str = "cpu") -> Flow:
    """One ValidationMaker job per (case, engine)."""
    from contactflow.engines import parse_spec
    from contactflow.validation.maker import ValidationMaker

    jobs = []
    for eng in engines:
        spec = parse_spec(eng).canonical
        for c in cases:
            j = ValidationMaker(engine=spec, device=device).make(c)
            j.name = f"validate:{c.id}:{spec}"
            jobs.append(j)
    return Flow(jobs, name="validation")


def run_validation(engines: list[str] | None = None, case_ids: list[str] | None = None, include_all: bool = False,
                   store=None, device: str = "cpu", progress=None, on_job=None) -> list[dict]:
    """Run cases × engines locally, store the documents, return them (as stored).

    Parameters
    ----------
    progress
        ``progress(stage, detail)``: one line per stage (what runs, the store).
    on_job
        ``on_job(i, n, name)`` as the job of each (case, engine) starts (``validate:CASE:ENGINE``).
    """
    from contactflow.dispatch import run_flow_locally
    from contactflow.store import open_store

    progress = progress or (lambda stage, detail: None)
    cases = select(case_ids, include_all)
    engines = list(engines or DEFAULT_ENGINES)
    flow = validation_flow(cases, engines, device)
    own = store is None
    progress("store", "starting/connecting to the store …")
    store = store or open_store()
    try:
        progress("validate", f"{len(cases)} case(s) × {len(engines)} engine(s) ({', '.join(engines)}): "
                             f"{len(flow.jobs)} jobs …")
        run_flow_locally(flow, store, ensure_success=False, on_job=on_job)
        keys = [j.uuid for j in flow.jobs]
        docs = []
        for rec in store.db["jobs"].find({"uuid": {"$in": keys}}, {"output.doc_key": 1}):
            key = (rec.get("output") or {}).get("doc_key")
            docs += store.find("validation", {"doc_key": key})
    finally:
        if own:
            store.close()
    order = {c.id: i for i, c in enumerate(cases)}
    return sorted(docs, key=lambda d: (engines.index(d["engine"]) if d["engine"] in engines else 99,
                                       order.get(d["case_id"], 99)))


def cell(doc: dict) -> str:
    """One table cell: signed error and mark (✓ pass, ✗ fail), or why there is no number."""
    if doc["status"] == "skipped":
        return "skipped (elements)"
    if doc["status"] == "failed":
        return "failed"
    sd = f" ±{doc['committee_std']:.3g}" if doc.get("committee_std") is not None else ""
    mark = "✓" if doc["status"] == "pass" else "✗"
    return f"{doc['signed_error']:+.3f}{sd} {mark}"


def table(docs: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Rows: case (reference ± tolerance, unit); columns: engines (signed error, committee σ, pass/fail)."""
    engines = list(dict.fromkeys(d["engine"] for d in docs))
    cases = list(dict.fromkeys(d["case_id"] for d in docs))
    by = {(d["case_id"], d["engine"]): d for d in docs}
    head = ["case", "reference"] + engines
    rows = []
    for c in cases:
        any_doc = next(d for d in docs if d["case_id"] == c)
        ref = f"{any_doc['reference_value']:g} ±{any_doc['tolerance']:g} {any_doc['unit']}"
        rows.append([c, ref] + [cell(by[(c, e)]) if (c, e) in by else "" for e in engines])
    return head, rows


def summarise(docs: list[dict]) -> dict:
    """Per engine: n pass / n run (skipped excluded), mean |relative error|, and per-case entries."""
    out: dict = {}
    for d in docs:
        e = out.setdefault(d["engine"], {"cases": {}})
        e["cases"][d["case_id"]] = {k: d.get(k) for k in ("status", "value", "signed_error", "relative_error",
                                                          "tolerance", "unit", "committee_std", "chemistry",
                                                          "task", "system", "reason")}
        e["cases"][d["case_id"]]["reference_value"] = d["reference_value"]
    for e in out.values():
        ran = [c for c in e["cases"].values() if c["status"] in ("pass", "fail")]
        e["n_pass"] = sum(c["status"] == "pass" for c in ran)
        e["n_cases"] = len(ran)
        e["n_skipped"] = sum(c["status"] == "skipped" for c in e["cases"].values())
        rel = [abs(c["relative_error"]) for c in ran if c["relative_error"] is not None]
        e["mean_abs_relative_error"] = sum(rel) / len(rel) if rel else None
        norm = [abs(c["signed_error"]) / c["tolerance"] for c in ran]
        e["mean_error_over_tolerance"] = sum(norm) / len(norm) if norm else None
    return out


def calibration(docs: list[dict], source: str = "cp2k") -> dict:
    """How often |error| ≤ 2σ of the committee, over cases with a ``source`` reference (the 2σ test)."""
    rows = [d for d in docs if d.get("committee_std") is not None and d["reference"]["source"] == source
            and d.get("signed_error") is not None]
    inside = [d for d in rows if abs(d["signed_error"]) <= 2 * d["committee_std"]]
    return {"n_cases": len(rows), "n_within_2sigma": len(inside),
            "fraction": len(inside) / len(rows) if rows else None,
            "cases": [{"case": d["case_id"], "engine": d["engine"], "error": d["signed_error"],
                       "sigma": d["committee_std"], "unit": d["unit"]} for d in rows]}


def write_record(docs: list[dict], path, speed: dict | None = None) -> dict:
    """The shipped record (``record.json``): summary per engine with the run date.

    A run updates the cases it ran and keeps every other (engine, case) entry of the existing record, so
    validating one engine or one case never drops the others.
    """
    from pathlib import Path

    old = json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else {}
    merged: dict = {}
    for eng, entry in (old.get("engines") or {}).items():
        for case_id, c in (entry.get("cases") or {}).items():
            merged[(eng, case_id)] = c
    for eng, entry in summarise(docs).items():
        for case_id, c in entry["cases"].items():
            merged[(eng, case_id)] = c
    flat = [{"engine": e, "case_id": k, **c} for (e, k), c in merged.items()]
    rec = {"generated": date.today().isoformat(), "engines": summarise(flat),
           "speed_s_per_atom": {**(old.get("speed_s_per_atom") or {}), **(speed or {})}}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(rec, fh, indent=1, sort_keys=True, default=str)
    return rec
