"""CZM exporters: Abaqus and MOOSE snippets parse with small parsers that check the documented
keywords/parameters, and they carry the stored numbers exactly."""

import json
import math
import re

import pytest

from contactflow.continuum.czm import (
    UNIT_SYSTEMS, CohesiveLaw, ExportError, export_czm, fea_parameters, laws_from_json,
)

# A stored traction–separation document as the store returns it (numbers as a UBER fit would give
# for a chemically bonded Si/C contact: W_sep 1.37 J/m², ℓ 0.62 Å → σ_max = 10 W/(e ℓ) GPa).
W, ELL = 1.3712345678901234, 0.6180339887498949
DOC = {
    "doc_key": "ts-0123456789abcdef", "interface_id": "if-9f8e7d6c5b4a", "recipe_name": "si_graphite",
    "system": "Si/C", "engine": "chgnet+d3", "state": "successful",
    "w_sep_J_per_m2": W, "length_scale_A": ELL, "delta_c_A": ELL,
    "sigma_max_GPa": W * 10 / (math.e * ELL) * 1.0000001,  # a fit need not be exactly self-consistent
    "fit_r2": 0.9987, "fit_rms_residual_J_per_m2": 0.012, "n_points_fitted": 14, "area_A2": 61.2,
    "provenance": {"engine": "chgnet+d3", "host": "node7", "model_hash": "ab12cd34",
                   "code_versions": {"chgnet": "0.4.2"}, "finished_at": "2026-05-01T12:00:00+00:00"},
}
DOC2 = {**DOC, "doc_key": "ts-2", "engine": "cp2k:pbe-d3", "w_sep_J_per_m2": 0.41, "sigma_max_GPa": 1.9,
        "delta_c_A": 0.79, "length_scale_A": 0.79}

# --- documented keywords (Abaqus Keywords Reference; MOOSE validParams) -------------------------
ABAQUS_KEYWORDS = {
    "SURFACE INTERACTION": {"required": {"NAME"}, "optional": {"USER", "DEPVAR", "PROPERTIES", "UNSYMM"}},
    "COHESIVE BEHAVIOR": {"required": set(), "optional": {"DEPENDENCIES", "ELIGIBILITY", "REPEATED CONTACTS",
                                                          "TYPE", "COHERE"}},
    "DAMAGE INITIATION": {"required": {"CRITERION"}, "optional": {"DEPENDENCIES", "POSITION", "TOLERANCE"}},
    "DAMAGE EVOLUTION": {"required": {"TYPE"}, "optional": {"SOFTENING", "DEGRADATION", "DEPENDENCIES",
                                                            "MIXED MODE BEHAVIOR", "MODE MIX RATIO", "POWER"}},
}
ABAQUS_VALUES = {("DAMAGE INITIATION", "CRITERION"): {"MAXS", "MAXE", "QUADS", "QUADE"},
                 ("DAMAGE EVOLUTION", "TYPE"): {"ENERGY", "DISPLACEMENT"},
                 ("DAMAGE EVOLUTION", "SOFTENING"): {"LINEAR", "EXPONENTIAL", "TABULAR"}}
MOOSE_PARAMS = {
    "SalehaniIrani3DCTraction": {
        "required": {"normal_gap_at_maximum_normal_traction", "tangential_gap_at_maximum_shear_traction",
                     "maximum_normal_traction", "maximum_shear_traction"}},
    "BiLinearMixedModeTraction": {
        "required": {"penalty_stiffness", "GI_c", "GII_c", "normal_strength", "shear_strength", "eta"},
        "enums": {"mixed_mode_criterion": {"POWER_LAW", "BK"}}},
}
MOOSE_COMMON = {"type", "boundary", "displacements", "base_name", "viscosity", "mixed_mode_criterion",
                "lag_mode_mixity", "lag_displacement_jump", "alpha"}


def parse_abaqus(text: str) -> list[dict]:
    """Keyword blocks of an Abaqus input: name, parameters, numeric data lines; checks syntax."""
    blocks: list[dict] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("**"):
            continue
        if line.startswith("*"):
            name, *params = [p.strip() for p in line[1:].split(",")]
            name = name.upper()
            assert name in ABAQUS_KEYWORDS, f"undocumented keyword *{name}"
            spec = ABAQUS_KEYWORDS[name]
            pdict = {}
            for p in params:
                k, _, v = p.partition("=")
                k = k.strip().upper()
                assert k in spec["required"] | spec["optional"], f"*{name}: undocumented parameter {k}"
                allowed = ABAQUS_VALUES.get((name, k))
                assert allowed is None or v.strip().upper() in allowed, f"*{name}, {k}={v}"
                pdict[k] = v.strip()
            assert spec["required"] <= set(pdict), f"*{name} lacks {spec['required'] - set(pdict)}"
            blocks.append({"keyword": name, "params": pdict, "data": []})
        else:
            assert blocks, "data line before any keyword"
            blocks[-1]["data"].append([float(x) for x in line.split(",")])
    return blocks


def parse_hit(text: str) -> dict:
    """MOOSE HIT input → nested dict; checks balanced [name] … [] blocks and key = value lines."""
    root: dict = {}
    stack = [root]
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"\[(\./)?([^\]]*)\]", line)
        if m:
            name = m.group(2)
            if name in ("", "../"):
                assert len(stack) > 1, "unbalanced []"
                stack.pop()
            else:
                cur = stack[-1]
                for part in name.split("/"):
                    cur = cur.setdefault(part, {})
                stack.append(cur)
            continue
        k, eq, v = line.partition("=")
        assert eq, f"not key = value: {line!r}"
        v = v.strip()
        if v.startswith("'") and v.endswith("'"):
            v = v[1:-1]
        stack[-1][k.strip()] = v
    assert len(stack) == 1, "unclosed block"
    return root


def test_abaqus_snippet_parses_and_holds_the_stored_numbers():
    laws = [CohesiveLaw.from_doc(DOC), CohesiveLaw.from_doc(DOC2)]
    text = export_czm(laws, "abaqus")
    blocks = parse_abaqus(text)
    assert [b["keyword"] for b in blocks] == ["SURFACE INTERACTION", "COHESIVE BEHAVIOR", "DAMAGE INITIATION",
                                              "DAMAGE EVOLUTION"] * 2
    for law, i in zip(laws, (0, 4)):
        si, cb, di, de = blocks[i:i + 4]
        assert si["params"]["NAME"] == law.name
        assert di["params"]["CRITERION"] == "MAXS" and de["params"]["TYPE"] == "ENERGY"
        (kn, ks, kt), = cb["data"]
        (tn, ts, tt), = di["data"]
        (gc,), = de["data"]
        # GPa–nm: stress and W_sep are the stored numbers, bit for bit; K in GPa/nm = 10 × GPa/Å
        assert tn == law.sigma_max_GPa and gc == law.w_sep_J_per_m2
        assert kn == law.normal_stiffness_GPa_per_A * 1.0 / 0.1
        assert kn == ks == kt and tn == ts == tt
        # the UBER law's initial slope: K = e σ_max / δ_c
        assert kn == pytest.approx(math.e * law.sigma_max_GPa / (law.delta_c_A / 10), rel=1e-14)
    # provenance and the stored values (stored units) in the comments
    assert f"w_sep_J_per_m2 = {DOC['w_sep_J_per_m2']!r}" in text
    assert f"sigma_max_GPa = {DOC['sigma_max_GPa']!r}" in text
    assert "engine chgnet+d3" in text and "ab12cd34" in text and "cp2k:pbe-d3" in text
    assert "fit: fit_r2 = 0.9987, fit_rms_residual_J_per_m2 = 0.012, n_points_fitted = 14" in text


@pytest.mark.parametrize("units", list(UNIT_SYSTEMS))
def test_abaqus_units_are_consistent(units):
    law = CohesiveLaw.from_doc(DOC)
    blocks = parse_abaqus(export_czm([law], "abaqus", units=units))
    (kn, _, _), = blocks[1]["data"]
    (tn, _, _), = blocks[2]["data"]
    (gc,), = blocks[3]["data"]
    u = UNIT_SYSTEMS[units]
    assert tn / u["stress"] == pytest.approx(DOC["sigma_max_GPa"], rel=1e-15)
    assert gc / u["energy"] == pytest.approx(DOC["w_sep_J_per_m2"], rel=1e-15)
    # consistency: stress × length = energy per area in every system
    p = fea_parameters(law, units)
    w_implied = math.e * p["sigma_max"] * p["delta_c"]
    assert w_implied / u["energy"] == pytest.approx(math.e * DOC["sigma_max_GPa"] * DOC["delta_c_A"] / 10, rel=1e-12)


@pytest.mark.parametrize("law_type", ["SalehaniIrani3DCTraction", "BiLinearMixedModeTraction"])
def test_moose_snippet_parses_and_holds_the_stored_numbers(law_type):
    law = CohesiveLaw.from_doc(DOC)
    text = export_czm([law], "moose", law_type=law_type, boundary="Si_C_interface")
    tree = parse_hit(text)
    assert tree["Physics"]["SolidMechanics"]["CohesiveZone"]["czm"]["boundary"] == "Si_C_interface"
    (name, block), = tree["Materials"].items()
    assert name == law.name and block["type"] == law_type
    spec = MOOSE_PARAMS[law_type]
    assert spec["required"] <= set(block), spec["required"] - set(block)
    assert set(block) <= spec["required"] | MOOSE_COMMON, set(block) - spec["required"] - MOOSE_COMMON
    for k, allowed in spec.get("enums", {}).items():
        assert block[k] in allowed
    if law_type == "SalehaniIrani3DCTraction":
        assert float(block["maximum_normal_traction"]) == DOC["sigma_max_GPa"]
        assert float(block["normal_gap_at_maximum_normal_traction"]) == DOC["delta_c_A"] * 0.1
    else:
        assert float(block["GI_c"]) == DOC["w_sep_J_per_m2"]
        assert float(block["normal_strength"]) == DOC["sigma_max_GPa"]
        assert float(block["penalty_stiffness"]) == math.e * DOC["sigma_max_GPa"] / DOC["delta_c_A"] / 0.1


def test_json_export_round_trips_with_provenance():
    laws = [CohesiveLaw.from_doc(DOC), CohesiveLaw.from_doc(DOC2)]
    text = export_czm(laws, "json", units="SI")
    payload = json.loads(text)
    rec = payload["laws"][0]
    assert rec["stored"]["w_sep_J_per_m2"] == DOC["w_sep_J_per_m2"]
    assert rec["fea"]["sigma_max"] == DOC["sigma_max_GPa"] * 1e9
    assert rec["engine"] == "chgnet+d3" and rec["provenance"]["model_hash"] == "ab12cd34"
    assert laws_from_json(text) == laws


def test_traction_separation_doc_field_names():
    """TractionSeparationDoc stores ℓ as uber_length_A; δ_c falls back to ℓ when absent."""
    doc = {k: v for k, v in DOC.items() if k not in ("length_scale_A", "delta_c_A")}
    law = CohesiveLaw.from_doc({**doc, "uber_length_A": 0.7})
    assert law.length_scale_A == law.delta_c_A == 0.7
    assert law.normal_stiffness_GPa_per_A == pytest.approx(math.e * DOC["sigma_max_GPa"] / 0.7, rel=1e-15)


def test_export_errors():
    law = CohesiveLaw.from_doc(DOC)
    with pytest.raises(ExportError, match="valid formats: json, abaqus, moose"):
        export_czm([law], "ansys")
    with pytest.raises(ExportError, match="valid: GPa-nm, SI, MPa-mm"):
        export_czm([law], "json", units="furlongs")
    with pytest.raises(ExportError, match="failed"):
        CohesiveLaw.from_doc({**DOC, "state": "failed", "failure_reason": "UBER fit did not converge"})
    with pytest.raises(ExportError, match="lacks sigma_max_GPa"):
        CohesiveLaw.from_doc({k: v for k, v in DOC.items() if k != "sigma_max_GPa"})
    with pytest.raises(ExportError, match="valid: SalehaniIrani3DCTraction"):
        export_czm([law], "moose", law_type="CZMRandomTraction")
    with pytest.raises(ExportError, match="not a contactflow CZM JSON"):
        laws_from_json("{}")


def test_uber_law_integrates_to_w_sep_and_peaks_at_delta_c():
    import numpy as np

    law = CohesiveLaw.uber(1.2, 0.55)
    d = np.linspace(0, 60 * law.delta_c_A, 200001)
    t = law.traction_GPa(d)
    # ∫ T dδ (GPa·Å) = 10 × W_sep (J/m²)
    assert np.trapezoid(t, d) / 10 == pytest.approx(1.2, rel=1e-6)
    assert d[np.argmax(t)] == pytest.approx(law.delta_c_A, abs=1e-3)
    assert float(law.traction_GPa(law.delta_c_A)) == pytest.approx(law.sigma_max_GPa, rel=1e-12)
    assert t.max() <= law.sigma_max_GPa
