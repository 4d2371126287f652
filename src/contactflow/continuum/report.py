"""A self-contained HTML report of one recipe: tables and matplotlib figures embedded as PNG.

Sections: work of separation (this recipe's interfaces and engines; every stored recipe against the
review's thresholds — weak van der Waals contacts < 0.8 J/m², chemically bonded contacts need
≳ 1.0 J/m² to resist delamination), traction–separation laws with their UBER curves, Li migration
NEB profiles, the engine comparison, the delamination prediction of the reference continuum
model, and every failed calculation with its reason. Sections without results say which task
produces them.
"""

import base64
import html
import io
import math
from datetime import datetime, timezone

import numpy as np

from contactflow import __version__
from contactflow.continuum.czm import CohesiveLaw, ExportError
from contactflow.store.queries import QueryError, compare_engines, producing_task, query, resolve_kind

#: the review's design thresholds (DOMAIN.md): weak vdW contacts below, bonded contacts at or above
WEAK_BELOW_J_PER_M2 = 0.8
STRONG_FROM_J_PER_M2 = 1.0
#: beyond this many recipes the overview ranks them instead of labelling each
MAX_LABELLED_RECIPES = 30
#: ``overview="auto"`` compares against all recipes up to this many adhesion documents, else the same system
OVERVIEW_ALL_MAX_DOCS = 20_000


def _mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    _mpl().close(fig)
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _cell(v) -> str:
    if isinstance(v, float):
        return "—" if math.isnan(v) else f"{v:.4g}"
    return "—" if v is None else html.escape(str(v))


def _table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    if not rows:
        return "<p class='empty'>none</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c, _ in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _missing(kind: str, recipe: str) -> str:
    return (f"<p class='empty'>No {html.escape(kind)} results for recipe {html.escape(recipe)}; run its "
            f"'{html.escape(producing_task(kind))}' task.</p>")


def _kind_docs(store, kind: str, **kw) -> list[dict] | None:
    """Documents of a kind, or None when the kind is not registered in this installation."""
    try:
        resolve_kind(kind)
    except QueryError:
        return None
    return query(store, kind, **kw)


# ---------------------------------------------------------------------------------------------
# figures


def wsep_by_recipe_engine(store, engine: str | None = None, system: str | None = None) -> list[dict]:
    """Successful W_sep per (recipe, engine), aggregated on the server: n, mean, min, max (J/m²).

    Only the per-group numbers travel to the client. The server still reads every matching
    document (the embedded server scans ~10,000 documents/s), so ``system`` narrows the scan through
    its index (first field of the ``$match``, see :func:`contactflow.store.queries._merge`).
    """
    match: dict = {"system": system} if system else {}
    if engine:
        match["engine"] = engine
    match.update({"w_sep_J_per_m2": {"$ne": None}, "state": "successful"})
    pipeline = [
        {"$match": match},
        {"$group": {"_id": {"recipe_name": "$recipe_name", "engine": "$engine"}, "n": {"$sum": 1},
                    "mean": {"$avg": "$w_sep_J_per_m2"}, "min": {"$min": "$w_sep_J_per_m2"},
                    "max": {"$max": "$w_sep_J_per_m2"}}},
    ]
    rows = [{"recipe_name": g["_id"].get("recipe_name") or "?", "engine": g["_id"].get("engine"),
             "n": g["n"], "mean": g["mean"], "min": g["min"], "max": g["max"]}
            for g in store.collection("adhesion").aggregate(pipeline)]
    return sorted(rows, key=lambda r: (r["recipe_name"], str(r["engine"])))


def wsep_across_recipes_figure(stats: list[dict], highlight: str | None = None):
    """Mean (marker) and range (bar) of W_sep per recipe and engine, with the review's weak/strong
    thresholds."""
    plt = _mpl()
    recipes = sorted({r["recipe_name"] for r in stats})
    engines = sorted({str(r["engine"]) for r in stats})
    if len(recipes) > MAX_LABELLED_RECIPES:
        return _ranked_wsep_figure(stats, recipes, engines, highlight)
    fig, ax = plt.subplots(figsize=(max(5.5, 0.9 * len(recipes) + 2), 4))
    ax.axhspan(0, WEAK_BELOW_J_PER_M2, color="C0", alpha=0.08)
    ax.axhline(WEAK_BELOW_J_PER_M2, color="C0", ls="--", lw=1, label="weak (vdW) < 0.8 J/m²")
    ax.axhline(STRONG_FROM_J_PER_M2, color="C3", ls="--", lw=1, label="bonded ≳ 1.0 J/m²")
    markers = "osD^v<>ph*"
    for j, eng in enumerate(engines):
        rs = [r for r in stats if str(r["engine"]) == eng]
        x = [recipes.index(r["recipe_name"]) + (j - (len(engines) - 1) / 2) * 0.12 for r in rs]
        y = np.array([r["mean"] for r in rs])
        err = np.array([[r["mean"] - r["min"] for r in rs], [r["max"] - r["mean"] for r in rs]])
        ax.errorbar(x, y, yerr=err, fmt=markers[j % len(markers)], ms=5, capsize=2, label=eng, alpha=0.85)
    ax.set_xticks(range(len(recipes)))
    ax.set_xticklabels(recipes, rotation=30, ha="right")
    for t in ax.get_xticklabels():
        if t.get_text() == highlight:
            t.set_fontweight("bold")
    ax.set_ylabel("W_sep, J/m² (mean, min–max)")
    ax.set_ylim(bottom=_y_bottom(r["min"] for r in stats))
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Work of separation across recipes")
    fig.tight_layout()
    return fig


def _recipe_means(stats: list[dict]) -> dict[str, float]:
    tot: dict[str, list[float]] = {}
    for r in stats:
        t = tot.setdefault(r["recipe_name"], [0.0, 0.0])
        t[0] += r["n"] * r["mean"]
        t[1] += r["n"]
    return {k: v[0] / v[1] for k, v in tot.items()}


def _ranked_wsep_figure(stats, recipes, engines, highlight):
    """Many recipes: recipes ranked by their mean W_sep (x = rank), one marker per engine."""
    plt = _mpl()
    means = _recipe_means(stats)
    order = sorted(recipes, key=lambda r: means[r])
    rank = {r: i for i, r in enumerate(order)}
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.axhspan(0, WEAK_BELOW_J_PER_M2, color="C0", alpha=0.08)
    ax.axhline(WEAK_BELOW_J_PER_M2, color="C0", ls="--", lw=1, label="weak (vdW) < 0.8 J/m²")
    ax.axhline(STRONG_FROM_J_PER_M2, color="C3", ls="--", lw=1, label="bonded ≳ 1.0 J/m²")
    for j, eng in enumerate(engines):
        rs = [r for r in stats if str(r["engine"]) == eng]
        ax.plot([rank[r["recipe_name"]] for r in rs], [r["mean"] for r in rs], "os^Dv<>"[j % 7], ms=3,
                ls="none", alpha=0.7, label=eng)
    if highlight in rank:
        ax.axvline(rank[highlight], color="k", lw=0.8)
        ax.annotate(highlight, (rank[highlight], ax.get_ylim()[1] * 0.95), fontsize=8, ha="left")
    ax.set_xlabel(f"{len(recipes)} recipes ranked by mean W_sep")
    ax.set_ylabel("mean W_sep per engine, J/m²")
    ax.set_ylim(bottom=_y_bottom(r["min"] for r in stats))
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Work of separation across recipes")
    fig.tight_layout()
    return fig


def contact_class(w_sep_J_per_m2: float | None) -> str:
    """The review's contact class of a W_sep (J/m²); W_sep ≤ 0 is unbound, never a contact type."""
    if w_sep_J_per_m2 is None or w_sep_J_per_m2 <= 0:
        return "unbound (W_sep ≤ 0)"
    if w_sep_J_per_m2 < WEAK_BELOW_J_PER_M2:
        return "weak (vdW)"
    return "bonded" if w_sep_J_per_m2 >= STRONG_FROM_J_PER_M2 else "intermediate"


def _y_bottom(values) -> float:
    """Lower y limit that keeps negative values on the axis (0 when every value is positive)."""
    lo = min([0.0, *[float(v) for v in values if v is not None]])
    return 0.0 if lo >= 0 else 1.15 * lo


def classify_recipes(stats: list[dict]) -> list[dict]:
    """Per engine: how many recipes fall below 0.8, between, and at or above 1.0 J/m² (mean W_sep)."""
    out = []
    for eng in sorted({str(r["engine"]) for r in stats}):
        ms = [r["mean"] for r in stats if str(r["engine"]) == eng]
        out.append({"engine": eng, "recipes": len(ms), "results": sum(r["n"] for r in stats if str(r["engine"]) == eng),
                    "unbound": sum(m <= 0 for m in ms),
                    "weak": sum(0 < m < WEAK_BELOW_J_PER_M2 for m in ms),
                    "intermediate": sum(WEAK_BELOW_J_PER_M2 <= m < STRONG_FROM_J_PER_M2 for m in ms),
                    "bonded": sum(m >= STRONG_FROM_J_PER_M2 for m in ms)})
    return out


def _curve_arrays(doc: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """Stored E(d) points of a traction–separation document, d measured from the fitted equilibrium
    gap: ``gaps_A`` and ``binding_energy_J_per_m2`` (TractionSeparationDoc), or any list fields named
    like separation/opening (Å) and energy (J/m²) of equal length."""
    sep = "gaps_A" if isinstance(doc.get("gaps_A"), list) else next(
        (k for k, v in doc.items() if isinstance(v, list) and any(w in k for w in ("separation", "opening", "gap"))
         and k.endswith("_A")), None)
    en = "binding_energy_J_per_m2" if isinstance(doc.get("binding_energy_J_per_m2"), list) else next(
        (k for k, v in doc.items() if isinstance(v, list) and "energ" in k and k.endswith("J_per_m2")), None)
    if not sep or not en or len(doc[sep]) != len(doc[en]) or len(doc[sep]) < 3:
        return None
    pairs = [(d, e) for d, e in zip(doc[sep], doc[en]) if d is not None and e is not None]
    if not pairs:
        return None
    d, e = (np.asarray(x, float) for x in zip(*pairs))
    if sep == "gaps_A" and doc.get("equilibrium_gap_A") is not None:
        d = d - float(doc["equilibrium_gap_A"])
    return d, e


def traction_figure(docs: list[dict]):
    """UBER energy and traction curves (with stored points where present) of traction–separation docs."""
    plt = _mpl()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for i, d in enumerate(docs):
        law = CohesiveLaw.from_doc(d)
        ell = law.length_scale_A
        pts = _curve_arrays(d)
        x = np.linspace(min(0.0, float(pts[0].min())) if pts is not None else 0.0, 8 * ell, 300)
        lab = f"{law.engine} {str(law.interface_id)[:8]}"
        ax1.plot(x, -law.w_sep_J_per_m2 * (1 + x / ell) * np.exp(-x / ell), color=f"C{i}", label=f"UBER fit {lab}")
        if pts is not None:
            ax1.plot(*pts, "o", color=f"C{i}", ms=4, label=f"computed {lab}")
        xo = x[x >= 0]
        ax2.plot(xo, law.traction_GPa(xo), color=f"C{i}", label=lab)
        ax2.plot([law.delta_c_A], [law.sigma_max_GPa], "x", color=f"C{i}")
    ax1.set_xlabel("separation from equilibrium d, Å")
    ax1.set_ylabel("E(d), J/m²")
    ax1.legend(fontsize=7)
    ax1.set_title("Energy vs separation")
    ax2.set_xlabel("opening δ, Å")
    ax2.set_ylabel("traction, GPa")
    ax2.legend(fontsize=7)
    ax2.set_title("Traction–separation (× = σ_max at δ_c)")
    fig.tight_layout()
    return fig


def neb_figure(docs: list[dict]):
    """Energy profiles along the band of NEB barrier documents."""
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, d in enumerate(docs):
        e = d.get("energies_eV") or []
        rc = d.get("reaction_coordinate_A") or list(range(len(e)))
        if len(e) < 2:
            continue
        ax.plot(rc, e, "o-", color=f"C{i % 10}", ms=4,
                label=f"{d.get('label', '')} ({d.get('engine')}): {d.get('barrier_forward_eV', float('nan')):.2f} eV")
    ax.set_xlabel("reaction coordinate, Å")
    ax.set_ylabel("E − E(initial), eV")
    ax.legend(fontsize=7)
    ax.set_title("Li migration (climbing-image NEB)")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# the report


_CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}td,th{border:1px solid #ccc;padding:3px 6px}
th{background:#f3f3f3}.empty{color:#888;font-style:italic}img{max-width:100%}h2{border-bottom:1px solid #ddd}
.meta{color:#666;font-size:.85em}"""


def _elements_of(systems) -> list[str]:
    """Elements of ``film/substrate`` formula strings such as ``SnO2/C``."""
    from pymatgen.core import Composition

    out = set()
    for sysname in systems:
        for part in str(sysname or "").split("/"):
            try:
                out |= {el.symbol for el in Composition(part).elements} if part.strip() else set()
            except ValueError:
                continue
    return sorted(out)


def uncertainty_text(u: dict | None) -> str:
    """One cell for a result's uncertainty block: ``± value unit (source)`` or why there is none."""
    if not u:
        return "—"
    if u.get("value") is None:
        return f"unvalidated ({u.get('note') or 'no validation case'})"
    return f"± {u['value']:.3g} {u.get('unit', '')} ({u.get('source')})"


def validation_matrix(store, elements: list[str] | None = None) -> tuple[list[dict], list[str]]:
    """Rows ``{case, system, reference, e:<engine>: "+0.012 ✓"}`` of the newest validation document of each
    (case, engine) in the store, and the engines (columns). Cases whose chemistry lies within ``elements``
    are starred and listed first."""
    docs = _kind_docs(store, "validation") or []
    newest: dict[tuple, dict] = {}
    for d in docs:
        k = (d["case_id"], d["engine"])
        t = str((d.get("provenance") or {}).get("finished_at") or "")
        if k not in newest or t > str((newest[k].get("provenance") or {}).get("finished_at") or ""):
            newest[k] = d
    engines = sorted({e for _, e in newest})
    rows: dict[str, dict] = {}
    for (case, eng), d in sorted(newest.items()):
        mine = bool(elements) and set(d.get("chemistry") or []) <= set(elements)
        row = rows.setdefault(case, {"case": ("★ " if mine else "") + case, "system": d.get("system"),
                                     "reference": f"{d.get('reference_value', float('nan')):.4g} {d.get('unit', '')}",
                                     "_mine": mine})
        if d.get("status") == "skipped":
            row[f"e:{eng}"] = "skipped"
        elif d.get("signed_error") is None:
            row[f"e:{eng}"] = d.get("status")
        else:
            row[f"e:{eng}"] = f"{d['signed_error']:+.3f} {'✓' if d.get('status') == 'pass' else '✗'}"
    return sorted(rows.values(), key=lambda r: (not r["_mine"], r["case"])), engines


#: public names of the HTML helpers, for report sections written elsewhere (e.g. screening campaigns)
figure_html = _png
table_html = _table


def build_report(store, recipe: str, engine: str | None = None, overview: str = "auto",
                 sections: list[str] | None = None) -> str:
    """HTML report of one recipe (see module docstring).

    Parameters
    ----------
    overview
        Scope of the W_sep-across-recipes section: ``all`` recipes, recipes of the same ``system``,
        ``none``, or ``auto`` (all up to :data:`OVERVIEW_ALL_MAX_DOCS` adhesion documents, else the
        same system — a full scan of a large embedded store takes tens of seconds).
    sections
        Further HTML sections (each starting with its ``<h2>``), placed before the failures, e.g. the
        screening campaigns over this recipe (:func:`contactflow.screening.report.campaign_sections`).

    Raises
    ------
    ExportError
        If the store holds no document at all for the recipe (and no section is given).
    """
    from contactflow.continuum.delamination import plot_delamination, predict_delamination

    ad_recipe = query(store, "adhesion", recipe=recipe, engine=engine)
    ifaces = query(store, "interfaces", recipe=recipe, projection={"structure": 0})
    ts = _kind_docs(store, "traction-separation", recipe=recipe, engine=engine)
    nebs = _kind_docs(store, "barriers", recipe=recipe, engine=engine)
    if not (ad_recipe or ifaces or ts or nebs or sections):
        raise ExportError(f"the store holds no results for recipe {recipe!r}; build and run it first "
                          f"(its tasks, e.g. '{producing_task('adhesion')}'), or list stored recipes with "
                          "'contactflow query interfaces'")
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>contactflow report: {html.escape(recipe)}"
             f"</title><style>{_CSS}</style></head><body>",
             f"<h1>contactflow report — {html.escape(recipe)}</h1>",
             f"<p class='meta'>generated {datetime.now(timezone.utc).isoformat(timespec='seconds')} by contactflow "
             f"{__version__} from {html.escape(getattr(store, 'display_uri', ''))}"
             + (f", engine {html.escape(engine)}" if engine else "") + "</p>"]

    # interfaces
    parts.append("<h2>Interfaces</h2>")
    parts.append(_table(ifaces, [("interface_id", "interface"), ("system", "system"), ("film_miller", "film hkl"),
                                 ("substrate_miller", "substrate hkl"), ("termination", "termination"),
                                 ("area_A2", "area Å²"), ("strain_pct", "strain %"), ("n_atoms", "atoms")]))

    # adhesion
    parts.append("<h2>Work of separation</h2>")
    ok = [d for d in ad_recipe if d["state"] == "successful"]
    if ad_recipe:
        for d in ad_recipe:
            d["_uncertainty"] = uncertainty_text(d.get("uncertainty"))
        parts.append(_table(ad_recipe, [("interface_id", "interface"), ("engine", "engine"), ("state", "state"),
                                        ("w_sep_rigid_J_per_m2", "W_sep rigid J/m²"),
                                        ("w_sep_J_per_m2", "W_sep J/m²"), ("_uncertainty", "uncertainty"),
                                        ("relaxed", "relaxed"), ("strain_pct", "strain %"), ("area_A2", "area Å²"),
                                        ("engine_reason", "why this engine")]))
        for d in ok:
            w = d["w_sep_J_per_m2"]
            d["_class"] = contact_class(w)
        parts.append(_table(ok, [("interface_id", "interface"), ("engine", "engine"), ("w_sep_J_per_m2", "W_sep J/m²"),
                                 ("_class", "class (review thresholds 0.8 / 1.0 J/m²)")]))
    else:
        parts.append(_missing("adhesion", recipe))
    if overview not in ("auto", "all", "system", "none"):
        raise ExportError(f"unknown overview scope {overview!r}; valid: auto, all, system, none")
    systems = sorted({d["system"] for d in ad_recipe + ifaces if d.get("system")})
    scope = overview
    if scope == "auto":
        big = store.collection("adhesion").estimated_document_count() > OVERVIEW_ALL_MAX_DOCS
        scope = "system" if big and systems else "all"
    if scope == "system" and not systems:
        scope = "all"
    stats = []
    if scope == "all":
        stats = wsep_by_recipe_engine(store, engine)
    elif scope == "system":
        for sysname in systems:
            stats += wsep_by_recipe_engine(store, engine, sysname)
    if stats:
        parts.append("<h3>" + ("All recipes" if scope == "all" else f"Recipes of system {html.escape(', '.join(systems))}")
                     + " against the review's thresholds</h3>")
        parts.append(_png(wsep_across_recipes_figure(stats, highlight=recipe)))
        parts.append(_table(classify_recipes(stats), [
            ("engine", "engine"), ("recipes", "recipes"), ("results", "results"),
            ("unbound", "mean ≤ 0"), ("weak", "0 < mean < 0.8 J/m²"), ("intermediate", "0.8–1.0"), ("bonded", "≥ 1.0 J/m²")]))
        mine = [r for r in stats if r["recipe_name"] == recipe] if len(stats) > 60 else stats
        parts.append(_table(mine, [("recipe_name", "recipe"), ("engine", "engine"), ("n", "results"),
                                   ("mean", "mean W_sep J/m²"), ("min", "min"), ("max", "max")]))

    # traction–separation
    parts.append("<h2>Traction–separation and cohesive-zone parameters</h2>")
    laws: list[CohesiveLaw] = []
    if ts is None:
        parts.append("<p class='empty'>This installation has no traction–separation document type.</p>")
    else:
        ts_ok = [d for d in ts if d.get("state", "successful") == "successful"]
        for d in ts_ok:
            try:
                laws.append(CohesiveLaw.from_doc(d))
            except ExportError:
                pass
        if laws:
            rows = [{"interface_id": law.interface_id, "engine": law.engine, "w": law.w_sep_J_per_m2,
                     "s": law.sigma_max_GPa, "d": law.delta_c_A, "ell": law.length_scale_A,
                     "k": law.normal_stiffness_GPa_per_A} for law in laws]
            parts.append(_table(rows, [("interface_id", "interface"), ("engine", "engine"), ("w", "W_sep J/m²"),
                                       ("s", "σ_max GPa"), ("d", "δ_c Å"), ("ell", "ℓ Å"), ("k", "K_n GPa/Å")]))
            parts.append(_png(traction_figure([d for d in ts_ok if d.get("sigma_max_GPa") is not None])))
        else:
            parts.append(_missing("traction-separation", recipe))

    # NEB
    parts.append("<h2>Li migration barriers</h2>")
    if nebs is None:
        parts.append("<p class='empty'>This installation has no barrier document type.</p>")
    elif nebs:
        parts.append(_table(nebs, [("label", "hop"), ("region", "region"), ("engine", "engine"), ("state", "state"),
                                   ("barrier_forward_eV", "E_a forward eV"), ("barrier_reverse_eV", "E_a reverse eV"),
                                   ("reference_barrier_eV", "reference eV"), ("reference_source", "reference")]))
        good = [d for d in nebs if d.get("state") == "successful" and len(d.get("energies_eV") or []) > 1]
        if good:
            parts.append(_png(neb_figure(good)))
    else:
        parts.append(_missing("barriers", recipe))

    # engines
    parts.append("<h2>Engines compared</h2>")
    cmp = compare_engines(store, "adhesion", recipe=recipe)
    if cmp["rows"]:
        parts.append(f"<p>Reference engine: {html.escape(str(cmp['reference']))}; field {cmp['field']}.</p>")
        rows = []
        for r in cmp["rows"]:
            row = {"interface_id": r["interface_id"], **{f"v:{e}": v for e, v in r["values"].items()},
                   **{f"d:{e}": v for e, v in r["diff"].items()}}
            rows.append(row)
        cols = [("interface_id", "interface")] + [(f"v:{e}", e) for e in cmp["engines"]] + \
               [(f"d:{e}", f"{e} − ref") for e in cmp["engines"] if e != cmp["reference"]]
        parts.append(_table(rows, cols))
    else:
        parts.append("<p class='empty'>No interface of this recipe has W_sep from more than one engine.</p>")

    # validation
    parts.append("<h2>Engine validation against published and CP2K references</h2>")
    elements = _elements_of([d.get("system") for d in ifaces + ad_recipe])
    vrows, engines_v = validation_matrix(store, elements or None)
    if vrows:
        parts.append("<p>Signed error (engine − reference) per case; ✓ within the case's tolerance, ✗ outside "
                     "(tolerances are the references' own spread, never widened to pass). "
                     + (f"Cases whose elements are all in this recipe ({html.escape(', '.join(elements))}) "
                        "are marked ★." if elements else "") + "</p>")
        parts.append(_table(vrows, [("case", "case"), ("system", "system"), ("reference", "reference")]
                            + [(f"e:{e}", e) for e in engines_v]))
    else:
        parts.append("<p class='empty'>No validation results in this store: run <code>contactflow validate</code>."
                     "</p>")

    # continuum consumer
    parts.append("<h2>Continuum: core–shell delamination</h2>")
    if laws:
        results = [predict_delamination(law) for law in laws]
        parts.append("<p>Reference model: Si core (50 nm) in a 5 nm carbon shell, Lamé thick-shell elasticity with "
                     "the cohesive law above at the interface (defaults of "
                     "<code>contactflow continuum delamination</code>).</p>")
        parts.append(_table([r.summary() for r in results], [
            ("interface_id", "interface"), ("engine", "engine"), ("onset_strain_pct", "onset strain %"),
            ("delamination_strain_pct", "delamination strain %"),
            ("delamination_volume_change_pct", "volume change %"), ("unstable", "snap-through")]))
        parts.append(_png(plot_delamination(min(results, key=lambda r: r.delamination_strain))))
    else:
        parts.append(_missing("traction-separation", recipe))

    parts.extend(sections or [])

    # failures and results not to trust
    parts.append("<h2>Failed and untrusted calculations</h2>")
    parts.append("<p>Failed, unbound (W_sep ≤ 0), suspect and extrapolating (committee spread above its threshold) "
                 "results are stored with their reason and never exported as good numbers.</p>")
    failed = [{"kind": "adhesion", **d} for d in ad_recipe if d["state"] != "successful"]
    failed += [{"kind": "traction-separation", **d} for d in (ts or []) if d.get("state", "successful") != "successful"]
    failed += [{"kind": "barriers", **d} for d in (nebs or []) if d.get("state", "successful") != "successful"]
    parts.append(_table(failed, [("kind", "task"), ("interface_id", "interface"), ("engine", "engine"),
                                 ("state", "state"), ("failure_reason", "reason")]))
    parts.append("</body></html>")
    return "\n".join(parts)
