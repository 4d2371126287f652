"""Screening campaigns in ``contactflow report``: for each campaign over a recipe, the Pareto set (designs,
objective values, the documents they came from), the Pareto plot with the hypervolume history, the
hypervolume after each batch, the design rules (which variable moves which objective) and every
evaluation with its state. HTML sections for :func:`contactflow.continuum.report.build_report`.
"""

import html
from pathlib import Path

from contactflow.continuum.report import figure_html, table_html


def campaign_base_recipe(doc: dict) -> str | None:
    """Name of the base recipe a stored campaign varies (``None`` if its space no longer loads)."""
    from contactflow.errors import ContactflowError
    from contactflow.screening.space import ScreeningSpace, base_recipe

    rec = (doc.get("space") or {}).get("recipe")
    if isinstance(rec, dict):
        return rec.get("name")
    try:
        return base_recipe(ScreeningSpace.model_validate(doc["space"])).name
    except (ContactflowError, ValueError):
        return Path(str(rec)).stem if rec else None


def campaigns_for(store, recipe: str) -> list[dict]:
    """Stored campaigns named ``recipe`` or varying the recipe ``recipe`` (oldest first)."""
    docs = store.find("screening", {})
    out = [d for d in docs if d.get("name") == recipe or campaign_base_recipe(d) == recipe]
    return sorted(out, key=lambda d: str(d.get("created_at") or ""))


def _design(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "+".join(map(str, value))
    return str(value)


def campaign_section(doc: dict) -> str:
    """The HTML of one campaign (see module docstring)."""
    from contactflow.schemas.screening import ScreeningEvaluation
    from contactflow.screening.loop import feasible
    from contactflow.screening.pareto import design_rules, pareto_figure
    from contactflow.screening.space import ScreeningSpace

    space = ScreeningSpace.model_validate(doc["space"])
    evs = [ScreeningEvaluation.model_validate(e) for e in doc.get("evaluations", [])]
    done = [e for e in evs if e.state != "proposed"]
    ok = [e for e in done if feasible(space, e)]
    pareto = set(doc.get("pareto", []))
    name = html.escape(doc["name"])
    parts = [f"<h3>Campaign {name}</h3>",
             f"<p>{html.escape(space.description) + ' — ' if space.description else ''}base recipe "
             f"{html.escape(str(campaign_base_recipe(doc)))}, {len(done)} of budget {doc.get('budget')} evaluated "
             f"({len(ok)} feasible, {len(done) - len(ok)} failed/unbound/infeasible, {len(evs) - len(done)} pending), "
             f"batches of {doc.get('batch_size')} via {html.escape(str(doc.get('via')))}, stopped: "
             f"{html.escape(str(doc.get('stop_reason')))}. Objectives: "
             + ", ".join(f"{html.escape(o.field)} ({o.direction})" for o in space.objectives) + ".</p>"]

    def row(e) -> dict:
        r = {"index": e.index, "batch": e.batch, "how": e.how, "state": e.state, "recipe": e.recipe_name,
             "reason": e.reason, "docs": "; ".join(f"{k}: {', '.join(v)}" for k, v in e.doc_keys.items() if v)}
        r.update({f"v:{v.name}": _design(e.design.get(v.name)) for v in space.variables})
        r.update({f"o:{o.field}": e.values.get(o.field) for o in space.objectives})
        return r

    var_cols = [(f"v:{v.name}", v.name) for v in space.variables]
    obj_cols = [(f"o:{o.field}", o.name) for o in space.objectives]
    parts.append("<h4>Pareto set</h4>")
    parts.append(table_html([row(e) for e in evs if e.index in pareto],
                            [("index", "#"), *var_cols, *obj_cols, ("recipe", "recipe variant"), ("docs", "documents")]))
    if done:
        parts.append(figure_html(pareto_figure(doc, space)))
    parts.append("<h4>Hypervolume history</h4>")
    hv = [{"n": n, "hv": h} for n, h in zip(doc.get("evaluations_history", []), doc.get("hypervolume_history", []))]
    parts.append(table_html(hv, [("n", "evaluations"), ("hv", "hypervolume")]))
    parts.append("<h4>Design rules (which variable moves which objective; feasible evaluations)</h4>")
    rules = design_rules([e.design for e in ok], [e.values for e in ok], space.variables, space.objectives)
    if rules:
        parts.append(table_html(rules, [("variable", "variable"), ("objective", "objective"), ("kind", "measure"),
                                        ("effect", "effect"), ("n", "n")]))
    else:
        parts.append(f"<p class='empty'>fewer than 3 feasible evaluations ({len(ok)}): no design rule yet</p>")
    parts.append("<h4>Evaluations</h4>")
    parts.append(table_html([row(e) for e in evs], [("index", "#"), ("batch", "batch"), ("how", "proposed by"),
                                                    *var_cols, ("state", "state"), *obj_cols, ("reason", "reason")]))
    return "\n".join(parts)


def campaign_sections(store, recipe: str) -> list[str]:
    """One ``Screening campaigns`` section with every campaign for ``recipe`` (empty list if none)."""
    docs = campaigns_for(store, recipe)
    if not docs:
        return []
    return ["<h2>Screening campaigns</h2>\n" + "\n".join(campaign_section(d) for d in docs)]
