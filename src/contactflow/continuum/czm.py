"""Cohesive-zone (CZM) parameters from traction–separation results, written in the input syntax of
FEA codes.

The law behind the numbers is the universal binding energy relation (UBER) fitted by the
traction–separation task: E(d) = −W_sep (1 + d/ℓ) exp(−d/ℓ), so the normal traction is
T(δ) = (W_sep/ℓ)(δ/ℓ) exp(−δ/ℓ) with peak σ_max = W_sep/(e ℓ) at δ_c = ℓ and initial stiffness
K_n = W_sep/ℓ² = e σ_max/δ_c. That is exactly the normal part of the exponential (Xu–Needleman /
Salehani–Irani) law MOOSE implements as ``SalehaniIrani3DCTraction``; Abaqus and MOOSE's
``BiLinearMixedModeTraction`` take the bilinear law with the same K_n, σ_max and fracture energy
G_c = W_sep.

Units: FEA input decks carry no units, only a consistent system. The default ``GPa-nm`` keeps the
stored numbers as they are: stress in GPa, length in nm, energy per area in GPa·nm = J/m² and
stiffness in GPa/nm. ``SI`` (Pa, m, J/m², Pa/m) and ``MPa-mm`` (MPa, mm, N/mm, MPa/mm) are the
other choices.
"""

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contactflow import __version__
from contactflow.errors import ContactflowError

#: 1 J/m² in GPa·Å (1 J/m² = 1 GPa·nm = 10 GPa·Å)
J_PER_M2_IN_GPA_A = 10.0

#: consistent unit systems: name → (stress per GPa, length per Å, energy/area per J/m², label dict)
UNIT_SYSTEMS: dict[str, dict[str, Any]] = {
    "GPa-nm": {"stress": 1.0, "length": 0.1, "energy": 1.0,
               "labels": {"stress": "GPa", "length": "nm", "energy": "GPa*nm (= J/m^2)", "stiffness": "GPa/nm"}},
    "SI": {"stress": 1e9, "length": 1e-10, "energy": 1.0,
           "labels": {"stress": "Pa", "length": "m", "energy": "J/m^2", "stiffness": "Pa/m"}},
    "MPa-mm": {"stress": 1e3, "length": 1e-7, "energy": 1e-3,
               "labels": {"stress": "MPa", "length": "mm", "energy": "N/mm (= kJ/m^2)", "stiffness": "MPa/mm"}},
}
FORMATS = ("json", "abaqus", "moose")


#: fit-quality and context fields of a traction–separation document carried into every export
FIT_FIELDS = ("fit_r2", "fit_rms_residual_J_per_m2", "n_points_fitted", "w_sep_curve_J_per_m2",
              "equilibrium_gap_A", "area_A2", "strain_pct", "n_atoms")


class ExportError(ContactflowError, ValueError):
    """An export was asked for something the store does not hold or a format it does not write."""


@dataclass(frozen=True)
class CohesiveLaw:
    """One interface's normal cohesive law, with where it came from.

    The stored numbers are kept as they were stored (no refit); ``normal_stiffness_GPa_per_A`` is
    stored when the task wrote one and otherwise follows from the UBER shape, e σ_max/δ_c. The UBER
    length ℓ is read from ``uber_length_A`` (TractionSeparationDoc) or ``length_scale_A``.
    """

    w_sep_J_per_m2: float
    sigma_max_GPa: float
    delta_c_A: float
    length_scale_A: float
    normal_stiffness_GPa_per_A: float
    engine: str
    interface_id: str | None = None
    recipe_name: str | None = None
    system: str | None = None
    doc_key: str | None = None
    provenance: dict = field(default_factory=dict)
    fit: dict = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: dict) -> "CohesiveLaw":
        """Build from a stored traction–separation document (plain dict).

        Raises
        ------
        ExportError
            If the document failed or lacks W_sep, σ_max or δ_c.
        """
        if doc.get("state", "successful") != "successful":
            raise ExportError(f"traction–separation document {doc.get('doc_key')} is {doc.get('state')}: "
                              f"{doc.get('failure_reason')}; it carries no cohesive law")
        missing = [k for k in ("w_sep_J_per_m2", "sigma_max_GPa") if doc.get(k) is None]
        ell = next((doc[k] for k in ("uber_length_A", "length_scale_A") if doc.get(k) is not None), None)
        delta_c = doc.get("delta_c_A") if doc.get("delta_c_A") is not None else ell
        if delta_c is None:
            missing.append("delta_c_A")
        if missing:
            raise ExportError(f"traction–separation document {doc.get('doc_key')} lacks {', '.join(missing)}")
        w, s, d = float(doc["w_sep_J_per_m2"]), float(doc["sigma_max_GPa"]), float(delta_c)
        if w <= 0 or s <= 0 or d <= 0:
            raise ExportError(f"traction–separation document {doc.get('doc_key')} has a non-positive "
                              f"parameter (W_sep {w} J/m², σ_max {s} GPa, δ_c {d} Å); an unbound interface "
                              "has no cohesive law")
        stiff = doc.get("normal_stiffness_GPa_per_A")
        prov = doc.get("provenance") or {}
        return cls(
            w_sep_J_per_m2=w, sigma_max_GPa=s, delta_c_A=d,
            length_scale_A=float(ell) if ell is not None else d,
            normal_stiffness_GPa_per_A=float(stiff) if stiff is not None else math.e * s / d,
            engine=str(doc.get("engine")), interface_id=doc.get("interface_id"),
            recipe_name=doc.get("recipe_name"), system=doc.get("system"), doc_key=doc.get("doc_key"),
            provenance=_jsonable(prov),
            fit={k: doc[k] for k in FIT_FIELDS if doc.get(k) is not None},
        )

    @classmethod
    def uber(cls, w_sep_J_per_m2: float, length_scale_A: float, engine: str = "model", **kw) -> "CohesiveLaw":
        """The self-consistent UBER law of a given W_sep and length scale ℓ."""
        s = w_sep_J_per_m2 * J_PER_M2_IN_GPA_A / (math.e * length_scale_A)
        return cls(w_sep_J_per_m2=w_sep_J_per_m2, sigma_max_GPa=s, delta_c_A=length_scale_A,
                   length_scale_A=length_scale_A, normal_stiffness_GPa_per_A=math.e * s / length_scale_A,
                   engine=engine, **kw)

    @property
    def name(self) -> str:
        """A label usable as an Abaqus/MOOSE object name."""
        parts = [self.recipe_name or "czm", self.engine, (self.interface_id or "")[:10]]
        return "_".join(_safe(p) for p in parts if p)

    def traction_GPa(self, opening_A):
        """Normal traction of the UBER-shaped law at opening δ ≥ 0 (Å), GPa: e σ_max (δ/δ_c) e^(−δ/δ_c)."""
        import numpy as np

        x = np.asarray(opening_A, dtype=float) / self.delta_c_A
        return math.e * self.sigma_max_GPa * x * np.exp(-x)

    def record(self, units: str = "GPa-nm") -> dict:
        """The JSON export record: stored numbers (with units in the names), the same numbers in the
        chosen consistent unit system, engine and provenance."""
        u = _units(units)
        return {
            "law": "UBER (exponential; normal traction T = e*sigma_max*(d/delta_c)*exp(-d/delta_c))",
            "name": self.name,
            "interface_id": self.interface_id, "recipe_name": self.recipe_name, "system": self.system,
            "engine": self.engine, "doc_key": self.doc_key,
            "stored": {
                "w_sep_J_per_m2": self.w_sep_J_per_m2, "sigma_max_GPa": self.sigma_max_GPa,
                "delta_c_A": self.delta_c_A, "length_scale_A": self.length_scale_A,
                "normal_stiffness_GPa_per_A": self.normal_stiffness_GPa_per_A,
            },
            "units": units,
            "unit_labels": u["labels"],
            "fea": fea_parameters(self, units),
            "fit": self.fit,
            "provenance": self.provenance,
        }


def fea_parameters(law: CohesiveLaw, units: str = "GPa-nm") -> dict[str, float]:
    """The law's parameters converted to a consistent unit system (see :data:`UNIT_SYSTEMS`)."""
    u = _units(units)
    return {
        "normal_stiffness": law.normal_stiffness_GPa_per_A * u["stress"] / u["length"],
        "sigma_max": law.sigma_max_GPa * u["stress"],
        "delta_c": law.delta_c_A * u["length"],
        "w_sep": law.w_sep_J_per_m2 * u["energy"],
    }


def _units(units: str) -> dict:
    if units not in UNIT_SYSTEMS:
        raise ExportError(f"unknown unit system {units!r}; valid: {', '.join(UNIT_SYSTEMS)}")
    return UNIT_SYSTEMS[units]


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in str(text)).strip("_")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj


def _num(x: float) -> str:
    """Shortest text that reads back to exactly the same float."""
    return repr(float(x))


# ---------------------------------------------------------------------------------------------
# loading laws from the store


def load_laws(store, recipe: str, engine: str | None = None, interface_id: str | None = None,
              where: str | list[str] | None = None) -> list[CohesiveLaw]:
    """Successful cohesive laws of a recipe from the store.

    Raises
    ------
    ExportError
        If none exists; the message says which task produces them and what else the store holds.
    """
    from contactflow.store.queries import QueryError, producing_task, query, resolve_kind

    crit = f"recipe {recipe!r}" + (f", engine {engine!r}" if engine else "") + \
        (f", interface {interface_id!r}" if interface_id else "")
    task = producing_task("traction-separation")
    try:
        resolve_kind("traction-separation")
    except QueryError:
        raise ExportError(f"no traction–separation results for {crit}: this installation has no "
                          f"traction–separation document type; run the '{task}' task first") from None
    clauses = ["state == successful"] + ([f"interface_id == '{interface_id}'"] if interface_id else [])
    clauses += [where] if isinstance(where, str) else list(where or [])
    docs = query(store, "traction-separation", recipe=recipe, engine=engine, where=clauses)
    if not docs:
        n_failed = len(query(store, "traction-separation", recipe=recipe, engine=engine,
                             where="state == failed"))
        n_ad = store.count("adhesion", {"recipe_name": recipe, **({"engine": engine} if engine else {})})
        extra = []
        if n_failed:
            extra.append(f"{n_failed} failed traction–separation run(s) are stored (see "
                         f"'contactflow query traction-separation --recipe {recipe} --where state==failed')")
        if n_ad:
            extra.append(f"{n_ad} adhesion document(s) exist, but W_sep alone is no cohesive law "
                         "(σ_max and δ_c come from the traction–separation curve)")
        raise ExportError(
            f"no successful traction–separation result for {crit} in the store; run the recipe's "
            f"'{task}' task, e.g. 'contactflow run {recipe} --task {task}" + (f" --engine {engine}" if engine else "")
            + "' (or add it to the recipe's tasks and submit it)" + ("; " + "; ".join(extra) if extra else "")
        )
    return [CohesiveLaw.from_doc(d) for d in docs]


# ---------------------------------------------------------------------------------------------
# writers


def to_json(laws: list[CohesiveLaw], units: str = "GPa-nm") -> str:
    """JSON export: one record per law (see :meth:`CohesiveLaw.record`)."""
    payload = {
        "format": "contactflow-czm/1",
        "contactflow_version": __version__,
        "units": units,
        "unit_labels": _units(units)["labels"],
        "laws": [law.record(units) for law in laws],
    }
    return json.dumps(payload, indent=2) + "\n"


def _header(law: CohesiveLaw, units: str, comment: str) -> list[str]:
    u = _units(units)["labels"]
    prov = law.provenance or {}
    lines = [
        f"contactflow {__version__} cohesive-zone export: {law.name}",
        f"recipe {law.recipe_name}, system {law.system}, interface {law.interface_id}",
        f"engine {law.engine}, document {law.doc_key}",
        f"computed {prov.get('finished_at') or prov.get('started_at') or 'n/a'} on {prov.get('host', 'n/a')}, "
        f"model hash {prov.get('model_hash') or 'n/a'}, code {json.dumps(prov.get('code_versions') or {})}",
        f"stored: w_sep_J_per_m2 = {_num(law.w_sep_J_per_m2)}, sigma_max_GPa = {_num(law.sigma_max_GPa)}, "
        f"delta_c_A = {_num(law.delta_c_A)}, length_scale_A = {_num(law.length_scale_A)}, "
        f"normal_stiffness_GPa_per_A = {_num(law.normal_stiffness_GPa_per_A)}",
        f"units ({units}): stress {u['stress']}, length {u['length']}, energy/area {u['energy']}, "
        f"stiffness {u['stiffness']}",
    ]
    if law.fit:
        lines.append("fit: " + ", ".join(f"{k} = {v!r}" for k, v in law.fit.items()))
    return [f"{comment} {line}" for line in lines]


def to_abaqus(laws: list[CohesiveLaw], units: str = "GPa-nm", shear_factor: float = 1.0) -> str:
    """Abaqus keywords: one surface interaction with surface-based cohesive behaviour per law.

    Keywords as documented in the Abaqus Keywords Reference:
    ``*SURFACE INTERACTION, NAME=…``; ``*COHESIVE BEHAVIOR`` (data line: K_nn, K_ss, K_tt —
    uncoupled traction–separation stiffness);
    ``*DAMAGE INITIATION, CRITERION=MAXS`` (data line: t_n⁰, t_s⁰, t_t⁰, maximum nominal stresses);
    ``*DAMAGE EVOLUTION, TYPE=ENERGY, SOFTENING=LINEAR`` (data line: fracture energy G_c).
    https://abaqus-docs.mit.edu/2017/English/SIMACAEKEYRefMap/simakey-r-cohesivebehavior.htm,
    …/simakey-r-damageinitiation.htm, …/simakey-r-damageevolution.htm.

    The shear stiffness and strengths are not computed by a normal pull-off; they are set to
    ``shear_factor`` × the normal values (an assumption stated in the deck's comments).
    """
    out: list[str] = []
    for law in laws:
        p = fea_parameters(law, units)
        kn, tn, gc = p["normal_stiffness"], p["sigma_max"], p["w_sep"]
        ks, ts = kn * shear_factor, tn * shear_factor
        out += _header(law, units, "**")
        out += [
            "** bilinear law: K_nn = e*sigma_max/delta_c (UBER initial slope), t_n0 = sigma_max, G_c = W_sep",
            f"** shear stiffness and strengths = {shear_factor} x normal (not computed by a normal pull-off)",
            f"*SURFACE INTERACTION, NAME={law.name}",
            "*COHESIVE BEHAVIOR",
            f"{_num(kn)}, {_num(ks)}, {_num(ks)}",
            "*DAMAGE INITIATION, CRITERION=MAXS",
            f"{_num(tn)}, {_num(ts)}, {_num(ts)}",
            "*DAMAGE EVOLUTION, TYPE=ENERGY, SOFTENING=LINEAR",
            f"{_num(gc)}",
            "**",
        ]
    return "\n".join(out) + "\n"


def to_moose(laws: list[CohesiveLaw], units: str = "GPa-nm", law_type: str = "SalehaniIrani3DCTraction",
             boundary: str = "interface", shear_factor: float = 1.0) -> str:
    """MOOSE input: a ``[Materials]`` block with one cohesive-zone material per law, plus the
    ``[Physics/SolidMechanics/CohesiveZone]`` action that adds the interface kernels.

    ``SalehaniIrani3DCTraction`` (exponential law; its normal part is the UBER traction) takes
    ``normal_gap_at_maximum_normal_traction``, ``tangential_gap_at_maximum_shear_traction``,
    ``maximum_normal_traction``, ``maximum_shear_traction``;
    ``BiLinearMixedModeTraction`` takes ``penalty_stiffness``, ``GI_c``, ``GII_c``,
    ``normal_strength``, ``shear_strength``, ``eta`` (and ``mixed_mode_criterion`` = BK|POWER_LAW).
    Parameter names as in MOOSE's validParams (modules/solid_mechanics/src/materials/
    cohesive_zone_model/*.C) and https://mooseframework.inl.gov/source/materials/cohesive_zone_model/
    SalehaniIrani3DCTraction.html.
    """
    if law_type not in ("SalehaniIrani3DCTraction", "BiLinearMixedModeTraction"):
        raise ExportError(f"unknown MOOSE traction law {law_type!r}; valid: SalehaniIrani3DCTraction, "
                          "BiLinearMixedModeTraction")
    out: list[str] = []
    for law in laws:
        out += _header(law, units, "#")
    out += [
        "",
        "[Physics/SolidMechanics/CohesiveZone]",
        "  [czm]",
        f"    boundary = '{boundary}'",
        "  []",
        "[]",
        "",
        "[Materials]",
    ]
    for law in laws:
        p = fea_parameters(law, units)
        out.append(f"  [{law.name}]")
        out.append(f"    type = {law_type}")
        out.append(f"    boundary = '{boundary}'")
        if law_type == "SalehaniIrani3DCTraction":
            out += [
                f"    normal_gap_at_maximum_normal_traction = {_num(p['delta_c'])}",
                f"    tangential_gap_at_maximum_shear_traction = {_num(p['delta_c'] * shear_factor)}",
                f"    maximum_normal_traction = {_num(p['sigma_max'])}",
                f"    maximum_shear_traction = {_num(p['sigma_max'] * shear_factor)}",
                f"    # implied normal work of separation e*sigma_max*delta_c = "
                f"{_num(math.e * p['sigma_max'] * p['delta_c'])} (stored W_sep {_num(p['w_sep'])})",
            ]
        else:
            out += [
                f"    penalty_stiffness = {_num(p['normal_stiffness'])}",
                f"    GI_c = {_num(p['w_sep'])}",
                f"    GII_c = {_num(p['w_sep'] * shear_factor)}",
                f"    normal_strength = {_num(p['sigma_max'])}",
                f"    shear_strength = {_num(p['sigma_max'] * shear_factor)}",
                "    eta = 2.0",
                "    mixed_mode_criterion = BK",
            ]
        out.append(f"    # shear parameters = {shear_factor} x normal (not computed by a normal pull-off)")
        out.append("  []")
    out.append("[]")
    return "\n".join(out) + "\n"


def export_czm(laws: list[CohesiveLaw], fmt: str = "json", units: str = "GPa-nm", **kwargs) -> str:
    """Write laws in one of :data:`FORMATS`."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown CZM export format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    _units(units)
    if fmt == "json":
        return to_json(laws, units)
    if fmt == "abaqus":
        return to_abaqus(laws, units, **{k: v for k, v in kwargs.items() if k == "shear_factor"})
    return to_moose(laws, units, **kwargs)


def laws_from_json(text: str) -> list[CohesiveLaw]:
    """Read laws back from a JSON export (the stored numbers, not the converted ones)."""
    try:
        payload = json.loads(text)
        recs = payload["laws"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ExportError(f"not a contactflow CZM JSON export ({exc}); write one with "
                          "'contactflow export czm RECIPE --format json'") from None
    laws = []
    for r in recs:
        s = r["stored"]
        laws.append(CohesiveLaw(
            w_sep_J_per_m2=s["w_sep_J_per_m2"], sigma_max_GPa=s["sigma_max_GPa"], delta_c_A=s["delta_c_A"],
            length_scale_A=s["length_scale_A"], normal_stiffness_GPa_per_A=s["normal_stiffness_GPa_per_A"],
            engine=r["engine"], interface_id=r.get("interface_id"), recipe_name=r.get("recipe_name"),
            system=r.get("system"), doc_key=r.get("doc_key"), provenance=r.get("provenance") or {},
            fit=r.get("fit") or {},
        ))
    return laws


__all__ = ["CohesiveLaw", "ExportError", "FORMATS", "UNIT_SYSTEMS", "export_czm", "fea_parameters",
           "laws_from_json", "load_laws", "to_abaqus", "to_json", "to_moose"]
