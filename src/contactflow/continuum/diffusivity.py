"""D(T, strain) tables from MD results, Arrhenius fits per strain, and a PyBaMM parameter set.

MD documents give a diffusion coefficient (from the mean-squared displacement) at one temperature
and one applied strain. This module reads whichever diffusivity field the document carries
(``*_m2_per_s`` or ``*_cm2_per_s``, a number or a per-species mapping), averages replicas at the
same (T, strain), and fits D = D₀ exp(−E_a / k_B T) for each strain with at least two temperatures.

The PyBaMM export follows PyBaMM's own parameter-set modules: ``get_parameter_values()`` returns a
dict of PyBaMM parameter names, among them ``"Negative particle diffusivity [m2.s-1]"`` as a
function of (sto, T) (names and call signature as in ``pybamm/input/parameters/lithium_ion/*.py``).
Load it with ``pybamm.ParameterValues("Chen2020").update(module.get_parameter_values())`` or as a
whole set; the JSON variant holds numbers only (``json.load(f)["parameters"]``).
"""

import csv
import io
import json
import math
import re
from collections import defaultdict
from datetime import datetime

import numpy as np

from contactflow import __version__
from contactflow.continuum.czm import ExportError

#: Boltzmann constant, eV/K
K_B_EV = 8.617333262e-5
#: molar gas constant, J/(mol K) (PyBaMM's pybamm.constants.R)
R_GAS = 8.314462618

_D_FIELD_RE = re.compile(r"^(?:\w*diffusivity|\w*diffusion_coefficient|D)(?:_\w+?)?_(m2|cm2|A2)_per_(s|ps|fs)$")
_TO_M2_PER_S = {("m2", "s"): 1.0, ("cm2", "s"): 1e-4, ("A2", "s"): 1e-20, ("A2", "ps"): 1e-8,
                ("A2", "fs"): 1e-5, ("cm2", "ps"): 1e8, ("m2", "ps"): 1e12, ("m2", "fs"): 1e15, ("cm2", "fs"): 1e11}
_T_FIELDS = ("temperature_K", "T_K", "target_temperature_K")
_STRAIN_FIELDS = (("strain_pct", 1.0), ("applied_strain_pct", 1.0), ("biaxial_strain_pct", 1.0),
                  ("strain", 100.0))
FORMATS = ("csv", "json", "pybamm", "pybamm-json")


def _diffusivity_field(doc: dict) -> tuple[str, float]:
    for key in doc:
        m = _D_FIELD_RE.match(key)
        if m and doc[key] is not None:
            return key, _TO_M2_PER_S[(m.group(1), m.group(2))]
    raise ExportError(f"MD document {doc.get('doc_key')} has no diffusivity field "
                      "(expected a name like diffusivity_m2_per_s or diffusivity_cm2_per_s)")


def _points_of_diffusion_doc(d: dict, species: str) -> list[dict]:
    """Points of a D(T, strain) document (``DiffusionDoc``: doc-level species, a list of points)."""
    if d.get("state", "successful") != "successful" or d.get("species") != species:
        return []
    out = []
    for p in d.get("points") or []:
        if p.get("state", "successful") != "successful" or p.get("diffusivity_m2_per_s") is None:
            continue
        out.append({
            "system": d.get("system"), "recipe_name": d.get("recipe_name"), "engine": d.get("engine"),
            "species": species, "temperature_K": float(p["temperature_K"]), "strain_pct": float(p.get("strain_pct", 0.0)),
            "D_m2_per_s": float(p["diffusivity_m2_per_s"]), "doc_key": p.get("md_doc_key") or d.get("doc_key"),
        })
    return out


def diffusivity_points(docs: list[dict], species: str = "Li") -> list[dict]:
    """One point per successful MD run: T, strain %, D in m²/s, with its labels.

    Reads MD documents (a diffusivity field, number or per-species mapping) and D(T, strain)
    documents (``points``); a run found both ways counts once (by its MD document key).
    """
    pts, seen = [], set()
    for d in docs:
        if isinstance(d.get("points"), list):
            for p in _points_of_diffusion_doc(d, species):
                if p["doc_key"] not in seen:
                    seen.add(p["doc_key"])
                    pts.append(p)
            continue
        if d.get("state", "successful") != "successful" or d.get("doc_key") in seen:
            continue
        try:
            key, factor = _diffusivity_field(d)
        except ExportError:
            continue
        val = d[key]
        if isinstance(val, dict):
            if species not in val or val[species] is None:
                continue
            val = val[species]
        T = next((d[k] for k in _T_FIELDS if d.get(k) is not None), None)
        if T is None:
            continue
        strain = next((d[k] * f for k, f in _STRAIN_FIELDS if d.get(k) is not None), 0.0)
        pts.append({
            "system": d.get("system"), "recipe_name": d.get("recipe_name"), "engine": d.get("engine"),
            "species": species, "temperature_K": float(T), "strain_pct": float(strain),
            "D_m2_per_s": float(val) * factor, "doc_key": d.get("doc_key"),
        })
        seen.add(d.get("doc_key"))
    return pts


def diffusivity_table(points: list[dict]) -> list[dict]:
    """Replicas at the same (engine, T, strain) averaged: mean D, its standard error and count."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for p in points:
        groups[(p["system"], p["recipe_name"], p["engine"], p["species"],
                round(p["temperature_K"], 6), round(p["strain_pct"], 6))].append(p)
    rows = []
    for (system, recipe, engine, species, T, strain), ps in sorted(groups.items(), key=lambda kv: tuple(
            "" if v is None else v for v in kv[0])):
        D = np.array([p["D_m2_per_s"] for p in ps])
        rows.append({
            "system": system, "recipe_name": recipe, "engine": engine, "species": species,
            "temperature_K": T, "strain_pct": strain, "D_m2_per_s": float(D.mean()),
            "D_stderr_m2_per_s": float(D.std(ddof=1) / math.sqrt(len(D))) if len(D) > 1 else None,
            "n_runs": len(D), "doc_keys": [p["doc_key"] for p in ps],
        })
    return rows


def arrhenius_fits(rows: list[dict]) -> list[dict]:
    """Least-squares fit of ln D vs 1/T per (engine, species, strain) with ≥ 2 temperatures."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r["D_m2_per_s"] > 0:
            groups[(r["engine"], r["species"], r["strain_pct"])].append(r)
    fits = []
    for (engine, species, strain), rs in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2])):
        T = np.array([r["temperature_K"] for r in rs])
        if len(np.unique(T)) < 2:
            continue
        slope, intercept = np.polyfit(1.0 / T, np.log([r["D_m2_per_s"] for r in rs]), 1)
        fits.append({
            "engine": engine, "species": species, "strain_pct": strain,
            "activation_energy_eV": float(-slope * K_B_EV), "D0_m2_per_s": float(math.exp(intercept)),
            "temperatures_K": sorted(float(t) for t in np.unique(T)),
        })
    return fits


def _reference_fit(fits: list[dict], strain_pct: float | None) -> dict:
    if not fits:
        raise ExportError("a PyBaMM diffusivity needs D at ≥ 2 temperatures for one strain (Arrhenius "
                          "fit); run the MD task at more temperatures")
    target = 0.0 if strain_pct is None else strain_pct
    return min(fits, key=lambda f: abs(f["strain_pct"] - target))


def to_csv(rows: list[dict]) -> str:
    """Long-format CSV of the D(T, strain) table."""
    cols = ["system", "recipe_name", "engine", "species", "temperature_K", "strain_pct", "D_m2_per_s",
            "D_stderr_m2_per_s", "n_runs"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols)
    for r in rows:
        w.writerow([repr(r[c]) if isinstance(r[c], float) else ("" if r[c] is None else r[c]) for c in cols])
    return buf.getvalue()


def to_json(rows: list[dict], fits: list[dict]) -> str:
    """JSON with the table and the Arrhenius fits."""
    return json.dumps({"format": "contactflow-diffusivity/1", "contactflow_version": __version__,
                       "units": {"D": "m^2/s", "T": "K", "strain": "%", "activation_energy": "eV"},
                       "table": rows, "arrhenius": fits}, indent=2) + "\n"


def pybamm_parameters(fits: list[dict], strain_pct: float | None = None,
                      reference_temperature_K: float = 298.15) -> dict:
    """PyBaMM parameter names → numbers (D at the reference temperature from the Arrhenius fit)."""
    f = _reference_fit(fits, strain_pct)
    D_ref = f["D0_m2_per_s"] * math.exp(-f["activation_energy_eV"] / (K_B_EV * reference_temperature_K))
    return {
        "Negative particle diffusivity [m2.s-1]": D_ref,
        "Reference temperature [K]": reference_temperature_K,
    }


def to_pybamm_json(rows: list[dict], fits: list[dict], strain_pct: float | None = None,
                   reference_temperature_K: float = 298.15) -> str:
    """``{"parameters": {PyBaMM name: number}, "contactflow": {...}}`` — load the ``parameters``."""
    f = _reference_fit(fits, strain_pct)
    return json.dumps({
        "parameters": pybamm_parameters(fits, strain_pct, reference_temperature_K),
        "contactflow": {
            "version": __version__, "exported_at": datetime.now().astimezone().isoformat(),
            "note": "pybamm.ParameterValues(...).update(data['parameters']); D is fixed at the reference "
                    "temperature here (the .py export carries the Arrhenius temperature dependence)",
            "arrhenius": f, "strain_table": rows,
        },
    }, indent=2) + "\n"


def to_pybamm_py(rows: list[dict], fits: list[dict], strain_pct: float | None = None,
                 reference_temperature_K: float = 298.15) -> str:
    """A Python module in PyBaMM's parameter-set layout (``get_parameter_values()``)."""
    f = _reference_fit(fits, strain_pct)
    by_strain = sorted(((g["strain_pct"], g["D0_m2_per_s"], g["activation_energy_eV"]) for g in fits
                        if g["engine"] == f["engine"] and g["species"] == f["species"]))
    ea_j_per_mol = f["activation_energy_eV"] * K_B_EV ** -1 * R_GAS  # eV → J/mol via N_A k_B = R
    d_ref = f["D0_m2_per_s"] * math.exp(-f["activation_energy_eV"] / (K_B_EV * reference_temperature_K))
    return f'''"""PyBaMM parameters exported by contactflow {__version__}.

Negative-particle diffusivity from MD (engine {f["engine"]}, species {f["species"]}) at an applied
strain of {f["strain_pct"]!r} %: Arrhenius fit over {f["temperatures_K"]} K,
E_a = {f["activation_energy_eV"]!r} eV, D0 = {f["D0_m2_per_s"]!r} m2/s.

Use::

    import pybamm, importlib.util
    spec = importlib.util.spec_from_file_location("cf", "<this file>"); cf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cf)
    pv = pybamm.ParameterValues("Chen2020"); pv.update(cf.get_parameter_values())

STRAIN_TABLE holds (strain %, D0 m2/s, E_a eV) for every strain with an Arrhenius fit;
diffusivity_at_strain(strain_pct) returns a PyBaMM-style function for another strain.
"""

import numpy as np

R = {R_GAS!r}  # J/(mol K)
T_REF = {reference_temperature_K!r}  # K
E_D = {ea_j_per_mol!r}  # J/mol
D_REF = {d_ref!r}  # m2/s at T_REF
STRAIN_TABLE = {by_strain!r}
PROVENANCE = {json.dumps({"engine": f["engine"], "species": f["species"], "strain_pct": f["strain_pct"],
                          "doc_keys": sorted({k for r in rows for k in r["doc_keys"]})})!r}


def negative_particle_diffusivity(sto, T):
    """Negative particle diffusivity [m2.s-1] as a function of stoichiometry and temperature [K]."""
    return D_REF * np.exp(E_D / R * (1 / T_REF - 1 / T))


def diffusivity_at_strain(strain_pct):
    """A (sto, T) diffusivity function for the tabulated strain closest to ``strain_pct``."""
    s, d0, ea_ev = min(STRAIN_TABLE, key=lambda row: abs(row[0] - strain_pct))
    return lambda sto, T: d0 * np.exp(-ea_ev / ({K_B_EV!r} * T))


def get_parameter_values():
    """PyBaMM parameter names and values (merge into a full parameter set)."""
    return {{
        "Negative particle diffusivity [m2.s-1]": negative_particle_diffusivity,
        "Reference temperature [K]": T_REF,
    }}
'''


def load_points(store, recipe: str | None = None, engine: str | None = None, system: str | None = None,
                where: str | list[str] | None = None, species: str = "Li") -> list[dict]:
    """Diffusivity points of the MD and D(T, strain) documents matching the criteria.

    Raises
    ------
    ExportError
        If there are none; the message names the task that produces them.
    """
    from contactflow.store.queries import QueryError, producing_task, query, resolve_kind

    crit = ", ".join(f"{k} {v!r}" for k, v in (("recipe", recipe), ("engine", engine), ("system", system)) if v)
    kinds = []
    for kind in ("diffusion", "md"):
        try:
            resolve_kind(kind)
            kinds.append(kind)
        except QueryError:
            pass
    if not kinds:
        raise ExportError(f"no MD results{' for ' + crit if crit else ''}: this installation has no MD "
                          f"document type; run the '{producing_task('md')}' task first")
    docs = []
    for kind in kinds:  # D(T, strain) documents first: their points name the MD runs they came from
        docs += query(store, kind, recipe=recipe, engine=engine, system=system, where=where)
    pts = diffusivity_points(docs, species)
    if not pts:
        raise ExportError(f"no successful MD diffusivity for {species}{' with ' + crit if crit else ''} in the "
                          f"store ({len(docs)} MD document(s) matched); run the recipe's "
                          f"'{producing_task('md')}' task at several temperatures and strains")
    return pts


def export_diffusivity(points: list[dict], fmt: str = "csv", strain_pct: float | None = None,
                       reference_temperature_K: float = 298.15) -> str:
    """Write the D(T, strain) table in one of :data:`FORMATS`."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown diffusivity export format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    rows = diffusivity_table(points)
    fits = arrhenius_fits(rows)
    if fmt == "csv":
        return to_csv(rows)
    if fmt == "json":
        return to_json(rows, fits)
    if fmt == "pybamm":
        return to_pybamm_py(rows, fits, strain_pct, reference_temperature_K)
    return to_pybamm_json(rows, fits, strain_pct, reference_temperature_K)
