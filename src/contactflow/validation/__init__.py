"""Validation: reference cases with citations, one ValidationDoc per (case, engine), the engine × case
table, and each engine's record (what ``engine: auto`` and ``contactflow engines`` read).

Sits above store/flows/jobs/engines (it runs flows and reads the store); nothing below imports it —
the engine layer reads the shipped ``record.json`` as data (:data:`RECORD_FILE`).
"""

from contactflow.validation.cases import ReferenceCaseError, all_cases, select
from contactflow.validation.run import calibration, run_validation, summarise, table

__all__ = ["ReferenceCaseError", "all_cases", "select", "run_validation", "table", "summarise", "calibration",
           "record"]


def record(engine_spec: str, store=None) -> dict | None:
    """An engine's validation record: from the ValidationDocs in ``store`` when given (and it holds any),
    else the shipped ``record.json``; ``None`` when the engine was never validated."""
    from contactflow.engines import parse_spec
    from contactflow.engines.auto import load_record

    spec = parse_spec(engine_spec).canonical
    if store is not None:
        docs = store.find("validation", {"engine": spec})
        if docs:
            return summarise(docs)[spec]
    return load_record().get("engines", {}).get(spec)
