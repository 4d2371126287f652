"""``contactflow query/compare/export/continuum/report`` on a seeded real store.

Traction–separation documents are built from the registered traction–separation schema; where this
installation has none yet, a stand-in with the fields the exporters read is registered for the test.
"""

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, Field
from typer.testing import CliRunner

from contactflow.cli import app
from contactflow.continuum.czm import CohesiveLaw
from contactflow.continuum.delamination import CoreShellParticle, predict_delamination
from contactflow.schemas import AdhesionDoc, BarrierDoc, Provenance
from contactflow.store import KINDS, DocKind, register_kind
from contactflow.store.queries import QueryError, resolve_kind

EXE = shutil.which("contactflow", path=str(Path(sys.executable).parent)) or "contactflow"
RECIPES = {"si_graphite": "Si/C", "sno2_graphene": "SnO2/C", "lif_graphene": "LiF/C"}
# (engine, factor on W_sep) — cp2k is the DFT reference
ENGINES = (("chgnet+d3", 0.9), ("cp2k:pbe-d3", 1.0), ("reaxff:C_H_O_Si", 0.7))
W_BASE = {"si_graphite": 0.55, "sno2_graphene": 1.45, "lif_graphene": 0.35}
ELL = 0.62
GAP0 = 3.1


class _StandInTraction(BaseModel):
    doc_key: str
    interface_id: str
    recipe_name: str | None = None
    system: str | None = None
    engine: str
    state: str
    failure_reason: str | None = None
    area_A2: float
    n_atoms: int
    w_sep_J_per_m2: float | None = None
    sigma_max_GPa: float | None = None
    delta_c_A: float | None = None
    uber_length_A: float | None = None
    equilibrium_gap_A: float | None = None
    gaps_A: list[float] = []
    binding_energy_J_per_m2: list[float | None] = []
    provenance: Provenance = Field(default_factory=Provenance)


@pytest.fixture
def ts_model():
    """The traction–separation document model (a stand-in is registered only while none exists)."""
    try:
        yield resolve_kind("traction-separation").model
        return
    except QueryError:
        pass
    register_kind(DocKind("traction_separation", _StandInTraction, "doc_key", ["recipe_name", "engine"]))
    try:
        yield _StandInTraction
    finally:
        KINDS.pop("traction_separation", None)


def _seed(store, ts_model) -> dict:
    docs = []
    for i_r, (recipe, system) in enumerate(RECIPES.items()):
        for k in range(2):
            iid = f"{recipe}-if{k}"
            for engine, f in ENGINES:
                w = round(W_BASE[recipe] * f * (1 + 0.1 * k), 6)
                prov = Provenance(engine=engine, host="node1", model_hash=f"h{i_r}{k}")
                docs.append(AdhesionDoc(
                    doc_key=f"ad-{iid}-{engine}", interface_id=iid, recipe_name=recipe, system=system,
                    engine=engine, state="successful", area_A2=84.2, strain_pct=1.1, n_atoms=96,
                    w_sep_rigid_J_per_m2=w, w_sep_J_per_m2=w, relaxed=False, provenance=prov))
                gaps = [GAP0 - 0.6 + 0.3 * j for j in range(16)]
                docs.append(ts_model.model_validate(dict(
                    doc_key=f"ts-{iid}-{engine}", interface_id=iid, recipe_name=recipe, system=system,
                    engine=engine, state="successful", area_A2=84.2, n_atoms=96, w_sep_J_per_m2=w,
                    uber_length_A=ELL, delta_c_A=ELL, sigma_max_GPa=w * 10 / (math.e * ELL),
                    equilibrium_gap_A=GAP0, gaps_A=gaps,
                    binding_energy_J_per_m2=[-w * (1 + (g - GAP0) / ELL) * math.exp(-(g - GAP0) / ELL) for g in gaps],
                    provenance=prov.model_dump())))
    docs.append(AdhesionDoc(doc_key="ad-failed", interface_id="si_graphite-if0", recipe_name="si_graphite",
                            system="Si/C", engine="mace:potentials/x.model", state="failed",
                            failure_reason="relaxation did not reach fmax in 300 steps", area_A2=84.2,
                            n_atoms=96, relaxed=True))
    docs.append(BarrierDoc(
        doc_key="neb-lif", interface_id="lif_graphene-if0", recipe_name="lif_graphene", system="LiF/C",
        label="LiF/C interface", region="interface", engine="chgnet", state="successful", converged=True,
        n_atoms=64, n_images=7, moving_index=0, fmax_eV_per_A=0.05, barrier_forward_eV=0.15,
        barrier_reverse_eV=0.09, delta_E_eV=0.06, energies_eV=[0, 0.04, 0.11, 0.15, 0.12, 0.08, 0.06],
        reaction_coordinate_A=[0, 0.4, 0.8, 1.2, 1.6, 2.0, 2.4], reference_barrier_eV=0.13,
        reference_source="review (DFT)"))
    store.upsert_many(docs)
    return {d.doc_key: store.to_mongo(d) for d in docs}


def invoke(*args):
    res = CliRunner().invoke(app, [str(a) for a in args])
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.mark.slow
def test_query_compare_export_continuum_report(store, ts_model, tmp_path):
    docs = _seed(store, ts_model)

    # query: system + --where, JSON
    out = json.loads(invoke("query", "adhesion", "--system", "SnO2/C", "--where", "w_sep_J_per_m2 > 1.1",
                            "--format", "json"))
    want = sorted(k for k, d in docs.items() if k.startswith("ad-") and d["system"] == "SnO2/C"
                  and (d["w_sep_J_per_m2"] or 0) > 1.1)
    assert sorted(d["doc_key"] for d in out) == want and want
    out = json.loads(invoke("query", "traction-separation", "--recipe", "lif_graphene", "--engine", "cp2k:pbe-d3",
                            "--format", "json"))
    assert sorted(d["interface_id"] for d in out) == ["lif_graphene-if0", "lif_graphene-if1"]
    csv_out = invoke("query", "barriers", "--format", "csv")
    assert csv_out.splitlines()[0].startswith("recipe_name,system,label") and "0.15" in csv_out

    # compare: cp2k is picked as reference; differences are value − reference
    cmp = json.loads(invoke("compare", "--recipe", "si_graphite", "--format", "json"))
    assert cmp["reference"] == "cp2k:pbe-d3" and len(cmp["rows"]) == 2
    for row in cmp["rows"]:
        ref = row["values"]["cp2k:pbe-d3"]
        assert row["diff"]["chgnet+d3"] == pytest.approx(row["values"]["chgnet+d3"] - ref)
        assert row["rel_diff_pct"]["reaxff:C_H_O_Si"] == pytest.approx(-30.0, abs=1e-3)
    assert "mace" not in " ".join(cmp["engines"])  # failed documents are not compared
    table = invoke("compare", "--kind", "traction-separation")
    assert "sigma_max_GPa across engines" in table

    # export czm (Abaqus) holds the stored numbers exactly
    deck = tmp_path / "czm.inp"
    invoke("export", "czm", "si_graphite", "--format", "abaqus", "--engine", "cp2k:pbe-d3",
           "--interface", "si_graphite-if1", "--out", deck)
    stored = docs["ts-si_graphite-if1-cp2k:pbe-d3"]
    lines = [ln for ln in deck.read_text().splitlines() if ln and not ln.startswith("**")]
    i = lines.index("*DAMAGE INITIATION, CRITERION=MAXS")
    assert float(lines[i + 1].split(",")[0]) == stored["sigma_max_GPa"]
    i = lines.index("*DAMAGE EVOLUTION, TYPE=ENERGY, SOFTENING=LINEAR")
    assert float(lines[i + 1]) == stored["w_sep_J_per_m2"]
    assert "model hash h01" in deck.read_text()

    # JSON export → continuum consumer (file), same numbers as the model called directly
    czm_json = tmp_path / "czm.json"
    invoke("export", "czm", "si_graphite", "--format", "json", "--out", czm_json)
    assert len(json.loads(czm_json.read_text())["laws"]) == 6
    png = tmp_path / "delam.png"
    rows = json.loads(invoke("continuum", "delamination", "--czm", czm_json, "--engine", "cp2k:pbe-d3",
                             "--core-radius-nm", 40, "--format", "json", "--plot", png))
    assert png.read_bytes()[:4] == b"\x89PNG"
    law = CohesiveLaw.from_doc(stored)
    direct = predict_delamination(law, CoreShellParticle(core_radius_nm=40))
    row = next(r for r in rows if r["interface_id"] == "si_graphite-if1")
    assert row["delamination_strain_pct"] == pytest.approx(direct.delamination_strain * 100, rel=1e-12)
    # a stronger interface of the same recipe delaminates later
    by_w = sorted(rows, key=lambda r: r["w_sep_J_per_m2"])
    assert by_w[0]["delamination_strain_pct"] < by_w[-1]["delamination_strain_pct"]
    text = invoke("continuum", "delamination", "si_graphite", "--engine", "reaxff:C_H_O_Si")
    assert "delamination (weakest law: reaxff:C_H_O_Si" in text

    # report
    html = tmp_path / "report.html"
    invoke("report", "si_graphite", "--out", html)
    page = html.read_text()
    assert len(re.findall(r"<img alt=\"figure\" src=\"data:image/png;base64,", page)) >= 3
    for fragment in ("Work of separation", "0.8 / 1.0 J/m²", "Traction–separation", "core–shell delamination",
                     "relaxation did not reach fmax", "Reference engine: cp2k:pbe-d3"):
        assert fragment in page, fragment
    html2 = tmp_path / "lif.html"
    invoke("report", "lif_graphene", "--out", html2)
    assert "Li migration (climbing-image NEB)" in html2.read_text() or html2.read_text().count("<img") >= 4


def test_export_of_recipe_without_result_says_which_task(store, ts_model):
    store.upsert(AdhesionDoc(doc_key="ad-x", interface_id="ifx", recipe_name="sio2_graphene", system="SiO2/C",
                             engine="chgnet+d3", state="successful", area_A2=50, n_atoms=80, relaxed=False,
                             w_sep_rigid_J_per_m2=0.33, w_sep_J_per_m2=0.33))
    from contactflow.continuum.czm import ExportError
    from contactflow.store.queries import producing_task

    res = CliRunner().invoke(app, ["export", "czm", "sio2_graphene", "--format", "moose"])
    assert isinstance(res.exception, ExportError)
    msg = str(res.exception)
    assert f"run the recipe's '{producing_task('traction-separation')}' task" in msg
    assert "1 adhesion document(s) exist" in msg
    res = CliRunner().invoke(app, ["export", "czm", "sio2_graphene", "--format", "ansys"])
    assert "valid formats: json, abaqus, moose" in str(res.exception)
    res = CliRunner().invoke(app, ["report", "never_run", "--out", "/dev/null"])
    assert "holds no results for recipe 'never_run'" in str(res.exception)


@pytest.mark.slow
def test_bad_where_exits_2_with_one_line(store, store_uri):
    env_db = store.settings.database
    import os

    env = {**os.environ, "CONTACTFLOW_MONGO_URI": store_uri, "CONTACTFLOW_DB": env_db}
    for args, fragment in (
        (["query", "adhesion", "--where", "w_sep_J_per_m > 1"], "did you mean 'w_sep_J_per_m2'"),
        (["query", "barriers", "--where", "barrier_forward_eV > low"], "is a number"),
        (["query", "adhesion", "--format", "xml"], "valid formats: table, json, csv"),
        (["compare", "--reference", "vasp"], "reference engine 'vasp'"),
    ):
        p = subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert p.stderr.startswith("error:") and fragment in p.stderr, p.stderr
        assert "Traceback" not in p.stderr
