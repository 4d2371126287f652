"""What each page shows, as plain data (no HTTP here): parsed queries, viewer geometry, SVG figures."""

import io
import math
import re
from functools import lru_cache

from contactflow.errors import ContactflowError
from contactflow.store.queries import QueryError, build_filter, default_columns, flat_fields, resolve_kind

PER_PAGE = (25, 50, 100)
#: identifiers in URLs (interface ids, doc keys, recipe names): anything else is refused before a query
SAFE_ID = re.compile(r"^[A-Za-z0-9_.:+\-]{1,200}$")


@lru_cache(maxsize=1)
def interface_columns() -> tuple[tuple[str, str], ...]:
    """Columns of the interfaces table (also the only sortable fields)."""
    cols = default_columns("interfaces", max_numbers=6)
    return tuple(cols + [c for c in (("match_index", "match"),) if c[0] not in dict(cols)])


def count(store, kind: str, flt: dict) -> int:
    """Documents matching ``flt``; with no filter the collection's metadata count (the embedded server
    scans every document for an exact ``count_documents({})``: 0.2 s per 2,000 measured)."""
    if not flt:
        return store.collection(kind).estimated_document_count()
    return store.count(kind, flt)


def interfaces_page(store, where: str = "", sort: str = "", order: str = "asc", page: int = 1,
                    per_page: int = 50) -> dict:
    """One page of the interfaces table: rows, total count, the parsed filter.

    Raises
    ------
    QueryError
        If ``where`` does not parse, or ``sort``/``per_page`` are not allowed values.
    """
    cols = interface_columns()
    if sort and sort not in dict(cols):
        raise QueryError(f"cannot sort by {sort!r}; sortable columns: {', '.join(c for c, _ in cols)}")
    if per_page not in PER_PAGE:
        raise QueryError(f"rows per page must be one of {', '.join(map(str, PER_PAGE))}")
    flt = build_filter("interfaces", where=where.strip() or None)
    spec = raw_query_args(flt, sort, order, page, per_page)
    total = count(store, "interfaces", flt)
    rows = store.find("interfaces", flt, sort=spec["sort"], limit=per_page, skip=spec["skip"],
                      projection=spec["projection"])
    pages = max(1, math.ceil(total / per_page))
    return {"rows": rows, "columns": cols, "total": total, "page": page, "pages": pages, "filter": flt,
            "sort": sort, "order": order, "per_page": per_page}


def raw_query_args(flt: dict, sort: str, order: str, page: int, per_page: int) -> dict:
    """The sort, skip and projection the interfaces page asks the store for (the benchmark reuses it)."""
    key = sort or "recipe_name"
    direction = -1 if order == "desc" else 1
    sort_spec = [(key, direction)] + ([("interface_id", 1)] if key != "interface_id" else [])
    projection = {c: 1 for c, _ in interface_columns()}
    return {"sort": sort_spec, "skip": (max(1, page) - 1) * per_page, "projection": projection}


# ---------------------------------------------------------------------------------------------
# one interface


def result_kinds() -> list[str]:
    """Registered document kinds that belong to an interface (carry ``interface_id``), but not the
    interface itself."""
    from contactflow.store.client import KINDS

    return [k for k, dk in KINDS.items() if k != "interfaces" and "interface_id" in dk.model.model_fields]


def scalar_fields(doc: dict, skip: tuple[str, ...] = ()) -> list[tuple[str, object]]:
    """Top-level scalar fields of a document (numbers, text, booleans), for a key/value table."""
    out = []
    for k, v in doc.items():
        if k in skip or k.startswith("_"):
            continue
        if isinstance(v, (int, float, str, bool)) or v is None:
            out.append((k, v))
    return out


def interface_detail(store, interface_id: str) -> dict | None:
    """The interface document and every result that refers to it, by kind (``None``: no such id)."""
    if not SAFE_ID.match(interface_id):
        raise QueryError(f"{interface_id!r} is not an interface id")
    doc = store.get("interfaces", interface_id)
    if doc is None:
        return None
    results = {}
    for kind in result_kinds():
        docs = store.find(kind, {"interface_id": interface_id}, sort=[("engine", 1), ("doc_key", 1)])
        if docs:
            results[kind] = docs
    return {"interface": doc, "results": results}


@lru_cache(maxsize=1)
def _colors() -> dict[str, str]:
    from pathlib import Path

    import pymatgen.vis
    import yaml

    path = Path(pymatgen.vis.__file__).parent / "ElementColorSchemes.yaml"
    table = yaml.safe_load(path.read_text()).get("Jmol", {})
    return {el: "#%02x%02x%02x" % tuple(int(c) for c in rgb) for el, rgb in table.items()}


def viewer_data(structure: dict | None) -> dict | None:
    """Geometry for the canvas viewer from a stored pymatgen (Interface/Structure) dict: lattice rows,
    Cartesian positions, element, colour, covalent radius, and which side (film/substrate) each atom is."""
    if not structure:
        return None
    from pymatgen.core import Element, Lattice

    try:
        lat = Lattice.from_dict(structure["lattice"])
        sites = structure["sites"]
    except (KeyError, TypeError, ValueError):
        return None
    colors = _colors()
    atoms = []
    for s in sites:
        sym = s["species"][0]["element"]
        xyz = s.get("xyz") or lat.get_cartesian_coords(s["abc"]).tolist()
        try:
            rad = float(Element(sym).atomic_radius_calculated or Element(sym).atomic_radius or 1.0)
        except (ValueError, TypeError):
            rad = 1.0
        label = (s.get("properties") or {}).get("interface_label")
        atoms.append({"el": sym, "xyz": [round(float(x), 4) for x in xyz], "c": colors.get(sym, "#ff1493"),
                      "r": round(rad, 3), "side": label})
    return {"lattice": [[round(float(x), 4) for x in row] for row in lat.matrix], "atoms": atoms}


# ---------------------------------------------------------------------------------------------
# figures (SVG text)


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def energy_gap_figure(prepared: list[dict], traction: list[dict]) -> str | None:
    """E(d): the preparation's short gap scan (per engine) and the traction–separation curves with their
    UBER fits, binding energy in J/m² where known."""
    import numpy as np

    from contactflow.jobs.traction import uber_energy, uber_traction_GPa

    scans = [d for d in prepared if d.get("gap_scan_A") and d.get("gap_scan_energies_eV")]
    curves = [d for d in traction if d.get("gaps_A") and d.get("binding_energy_J_per_m2")]
    if not scans and not curves:
        return None
    plt = _plt()
    n = 1 + bool(curves)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 3.6))
    axes = list(np.atleast_1d(axes))
    ax = axes[0]
    if curves:
        for i, d in enumerate(curves):
            g = np.asarray(d["gaps_A"], float)
            e = np.asarray([np.nan if x is None else x for x in d["binding_energy_J_per_m2"]], float)
            ax.plot(g, e, "o", ms=4, color=f"C{i}", label=f"{d.get('engine')} (computed)")
            if d.get("w_sep_J_per_m2") is not None and d.get("uber_length_A") and d.get("equilibrium_gap_A"):
                w, ell, g0 = d["w_sep_J_per_m2"], d["uber_length_A"], d["equilibrium_gap_A"]
                xs = np.linspace(g.min(), g.max(), 300)
                ax.plot(xs, uber_energy(xs, w, ell, g0), "-", color=f"C{i}", label=f"UBER, W_sep={w:.3f} J/m²")
                xt = xs[xs >= g0]
                axes[1].plot(xt, uber_traction_GPa(xt, w, ell, g0), "-", color=f"C{i}",
                             label=f"σ_max={d.get('sigma_max_GPa') or 0:.2f} GPa, δ_c={d.get('delta_c_A') or 0:.2f} Å")
        ax.set_ylabel("E_b(d), J/m²")
        axes[1].set_xlabel("gap d, Å")
        axes[1].set_ylabel("traction, GPa")
        axes[1].set_title("Traction–separation (cohesive law)", fontsize=9)
        if axes[1].get_legend_handles_labels()[0]:
            axes[1].legend(fontsize=7)
    for j, d in enumerate(scans):
        g = np.asarray(d["gap_scan_A"], float)
        e = np.asarray(d["gap_scan_energies_eV"], float)
        target = ax if not curves else ax.twinx()
        target.plot(g, e - np.nanmin(e), "s--", ms=3, color=f"C{len(curves) + j}",
                    label=f"preparation scan {d.get('engine')} (eV, rel.)")
        if not curves:
            ax.set_ylabel("E(d) − min, eV")
        else:
            target.set_ylabel("preparation scan, eV")
            target.legend(fontsize=7, loc="lower right")
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel("film–substrate gap d, Å")
    ax.set_title("Energy vs separation E(d)", fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _svg(fig)


def barrier_figure(docs: list[dict]) -> str | None:
    """NEB energy profiles of barrier documents (one line per hop and engine)."""
    docs = [d for d in docs if len(d.get("energies_eV") or []) >= 2]
    if not docs:
        return None
    from contactflow.continuum.report import neb_figure

    return _svg(neb_figure(docs))


# ---------------------------------------------------------------------------------------------
# engines, queue, downloads


def engines_compared(store) -> list[dict]:
    """Engine comparisons per headline quantity (adhesion W_sep, σ_max, NEB barrier)."""
    from contactflow.store.queries import compare_engines

    out = []
    for kind in ("adhesion", "traction-separation", "barriers"):
        try:
            cmp = compare_engines(store, kind, include_single=True)
        except ContactflowError as exc:
            out.append({"kind": kind, "error": str(exc)})
            continue
        out.append(cmp)
    return out


def engine_rows() -> list[dict]:
    """The engine registry: each backend's kind, dispatch category, bond-breaking trust and description
    (a validation record is shown when the registry carries one)."""
    from contactflow.engines.registry import ENGINES

    return [{"engine": name, "kind": be.kind, "category": be.category, "bond_breaking": be.bond_breaking,
             "description": be.description, "validation": getattr(be, "validation", None)}
            for name, be in ENGINES.items()]


def queue_rows(store) -> tuple[list[dict], str | None]:
    """FireWorks workflows and their job states (``(rows, error)``)."""
    try:
        from contactflow.dispatch.fireworks import get_launchpad, workflow_status

        lp = get_launchpad(store)
        return workflow_status(lp), None
    except ContactflowError as exc:
        return [], str(exc)


def recipes_with(store, kind: str) -> list[str]:
    """Recipe names that have documents of ``kind`` (sorted)."""
    try:
        dk = resolve_kind(kind)
    except QueryError:
        return []
    names = store.collection(dk.name).distinct("recipe_name")
    return sorted(n for n in names if isinstance(n, str))


@lru_cache(maxsize=1)
def fields_help() -> tuple[str, ...]:
    """Queryable fields of interface documents (for the filter's help text)."""
    return tuple(f for f in flat_fields(resolve_kind("interfaces").model) if not f.startswith("structure"))
