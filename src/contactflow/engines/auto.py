"""``engine: auto``: choose the engine with the best validation record that covers a structure's elements,
and the uncertainty a single model carries (the validation error of its chemistry).

The record is data: ``src/contactflow/validation/record.json``, written by ``contactflow validate
--write-record`` (the validation package sits above the engines and is never imported from here).
"""

import json
from functools import lru_cache
from pathlib import Path

from contactflow.errors import EngineSpecError

AUTO = "auto"
RECORD_FILE = Path(__file__).resolve().parents[1] / "validation" / "record.json"
#: the universal fallback: runs offline on a CPU for (nearly) every element
UNIVERSAL = "chgnet+d3"
#: a committee whose spread of the property (W_sep J/m², barrier eV …) exceeds this is extrapolating
EXTRAPOLATION_THRESHOLD = {"J/m2": 0.05, "eV": 0.05}


def is_auto(spec: str | None) -> bool:
    return str(spec or "").strip().lower() == AUTO


@lru_cache(maxsize=2)
def _read(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_record(path: Path | None = None) -> dict:
    """The shipped validation record (``{}`` when none has been written)."""
    p = Path(path or RECORD_FILE)
    return _read(str(p), p.stat().st_mtime) if p.is_file() else {}


def candidates() -> list[str]:
    """Engine specs ``auto`` chooses among: trained committees shipped in potentials/mlp, then the universal
    model (ReaxFF and DFT are never picked automatically: they are chosen by name)."""
    from contactflow.engines.registry import shipped_specs

    return shipped_specs("trained_mlp") + [UNIVERSAL]


def _relevant(cases: dict, symbols: set[str], task: str | None) -> list[dict]:
    """Cases of the record that test this chemistry: their elements are a subset of the structure's, and of
    those only the most specific (most elements in common): a C/C case says nothing about a Si/C contact, so
    a structure with several elements is covered only by cases of at least two of them."""
    sub = [c | {"id": k} for k, c in cases.items()
           if c.get("status") in ("pass", "fail") and c.get("chemistry") and set(c["chemistry"]) <= symbols]
    if not sub:
        return []
    top = max(len(c["chemistry"]) for c in sub)
    if len(symbols) > 1 and top < 2:
        return []
    return [c for c in sub if len(c["chemistry"]) == top]


def score(spec: str, symbols, task: str | None = None, record: dict | None = None) -> dict:
    """How an engine did on the cases of this chemistry: n pass, n run, mean |error|/tolerance, and the
    most specific cases (the most elements in common with the structure) first."""
    rec = (record if record is not None else load_record()).get("engines", {}).get(spec, {})
    rel = _relevant(rec.get("cases", {}), set(symbols), task)
    if task:
        rel.sort(key=lambda c: (c.get("task") != task,))
    n_pass = sum(c["status"] == "pass" for c in rel)
    norm = [abs(c["signed_error"]) / c["tolerance"] for c in rel if c.get("signed_error") is not None]
    return {"spec": spec, "n_pass": n_pass, "n_cases": len(rel), "cases": [c["id"] for c in rel],
            "mean_error_over_tolerance": sum(norm) / len(norm) if norm else None}


def choose(symbols, task: str | None = None, record: dict | None = None, needs: str = "any") -> tuple[str, str]:
    """The engine for a structure's elements and a task, and the reason.

    Among the candidates (shipped trained committees, then ``chgnet+d3``) that cover every element and, when
    the task breaks bonds, describe bond breaking: the best validation record on this chemistry (pass
    fraction, then mean |error|/tolerance); a trained committee wins ties, and with no record at all the
    first committee covering the elements is taken, else the universal model. ``needs`` is the task's
    physics (``bond_breaking`` for pull-off: see the task registry, which passes it).
    """
    from contactflow.engines.checks import supported_elements
    from contactflow.engines.registry import backend

    symbols = set(symbols)
    needs_bonds = needs == "bond_breaking"
    options = []
    for spec in candidates():
        have = supported_elements(spec)
        if have is not None and not symbols <= have:
            continue
        if needs_bonds and not backend(spec).bond_breaking:
            continue
        options.append(score(spec, symbols, task, record))
    if not options and needs_bonds:
        raise EngineSpecError(f"engine auto: no validated candidate covering {', '.join(sorted(symbols))} describes "
                              "bond breaking; name a reactive force field (reaxff:…) or DFT (cp2k) for this task")
    if not options:
        return UNIVERSAL, f"no candidate covers {', '.join(sorted(symbols))}; the universal model {UNIVERSAL} runs"

    def key(s):
        frac = s["n_pass"] / s["n_cases"] if s["n_cases"] else -1.0
        err = s["mean_error_over_tolerance"] if s["mean_error_over_tolerance"] is not None else float("inf")
        return (-frac, err, 0 if s["spec"] != UNIVERSAL else 1)

    best = sorted(options, key=key)[0]
    chem = "-".join(sorted(symbols))
    if best["n_cases"]:
        others = "; ".join(f"{o['spec']} {o['n_pass']}/{o['n_cases']}" for o in options if o is not best)
        why = (f"auto: best validation record on {chem} cases ({best['n_pass']}/{best['n_cases']} within tolerance: "
               f"{', '.join(best['cases'])}){'; others: ' + others if others else ''}")
    else:
        why = (f"auto: no validation case covers {chem}; "
               + ("trained committee covering the elements" if best["spec"] != UNIVERSAL else
                  f"no trained committee covers {chem}, so the universal model"))
    return best["spec"], why


def uncertainty(spec: str, symbols, task: str, unit: str, committee_std: float | None = None,
                record: dict | None = None) -> dict:
    """The uncertainty block of a result: the committee's spread of the property when the engine is a
    committee, else the validation error of this chemistry (largest |error| among its cases of this
    task/unit), else ``unvalidated`` naming what is missing."""
    if committee_std is not None:
        return {"source": "committee", "value": float(committee_std), "unit": unit,
                "note": "std over the committee members of this property"}
    rec = (record if record is not None else load_record()).get("engines", {}).get(spec, {})
    chemistry_cases = _relevant(rec.get("cases", {}), set(symbols), task)
    rel = [c for c in chemistry_cases if c.get("unit") == unit]
    same_task = [c for c in rel if c.get("task") == task] or rel
    if same_task:
        worst = max(same_task, key=lambda c: abs(c["signed_error"]))
        return {"source": "validation", "value": abs(float(worst["signed_error"])), "unit": unit,
                "cases": [c["id"] for c in same_task],
                "note": f"largest |error| of {spec} on validated {'-'.join(sorted(set(symbols)))} cases "
                        f"({worst['id']}: {worst['signed_error']:+.3f} {unit})"}
    related = "; ".join(f"{c['id']} {c['signed_error']:+.3f} {c['unit']} ({c['status']}, tolerance {c['tolerance']:g})"
                        for c in chemistry_cases if c.get("signed_error") is not None)
    return {"source": "unvalidated", "value": None, "unit": unit,
            "note": f"no validation case for {task} on {'-'.join(sorted(set(symbols)))} with {spec} in {unit}; add one "
                    "under src/contactflow/validation/cases/ and run `contactflow validate`"
                    + (f"; cases of this chemistry in other units: {related}" if related else "")}


def active_learn_command(spec: str, task: str | None = None) -> str:
    """The ``contactflow active-learn`` command that would extend a committee's data where it extrapolates."""
    from contactflow.engines.calculators import model_path, parse_spec

    p = parse_spec(spec)
    if p.base != "mace":
        return "train a committee on this chemistry (contactflow dataset … / contactflow train …)"
    d = model_path(p.arg)
    workflow = "si_td_hop_neb" if task == "neb" else "bilayer_traction"
    return f"contactflow active-learn {d.name} --model-dir {p.arg} --workflow {workflow}"


def trust(spec: str, symbols, task: str, unit: str, committee_std: float | None, state: str,
          result: dict, what: str = "the property") -> str:
    """Set ``result["uncertainty"]`` and return the state: ``extrapolating`` (with the active-learning
    command in ``failure_reason``) when a successful result's committee spread exceeds the threshold."""
    result["uncertainty"] = uncertainty(spec, symbols, task, unit, committee_std)
    limit = EXTRAPOLATION_THRESHOLD.get(unit)
    if state == "successful" and committee_std is not None and limit is not None and committee_std > limit:
        result["failure_reason"] = (
            f"committee spread of {what} {committee_std:.3f} {unit} exceeds {limit} {unit}: {spec} extrapolates "
            f"outside its training data; fix: {active_learn_command(spec, task)}")
        return "extrapolating"
    return state
