"""The shipped Si/C-contact MACE committee ``potentials/mlp/sico`` (C, Li, O, Si) against contactflow's CP2K.

- Held-out CP2K test set (``potentials/mlp/sico/data/test.extxyz``, never trained on), per system of the
  recipes it was sampled from (Si/graphene, Si/graphite, SiO2/graphene) and the lisic systems it also
  covers: energy MAE ≤ 5 meV/atom, force MAE ≤ 0.10 eV/Å; the committee's per-atom force spread ranks the
  true per-atom force error (Spearman ρ ≥ 0.5). Evaluated here, not read from the card.
- Engine table on the recipes' own small cells against CP2K on the same cells (the ``*_cp2k`` validation
  cases built from held-out labels: rigid W_sep of Si/graphene, Si/graphite and SiO2/graphene, Li in the
  Si/C and SiO2/C gaps): every engine's signed error is stored as a measured figure.

Where this version misses issue 16's bounds (measured, see ``potentials/mlp/sico/NOTES.md``: Si/graphene
7.4 meV/atom, Si/graphite 11.9, SiO2/graphene 5.9 meV/atom and 0.15 eV/Å; Si/C W_sep −0.15 J/m² and Li in
the gaps +0.43 eV against CP2K) the bound is asserted as a strict expected failure: it is not widened, and
the test turns red the day a retrained committee meets it, so the mark must then go.
"""

import json

import pytest
from typer.testing import CliRunner

from contactflow.paths import POTENTIALS_DIR

pytestmark = pytest.mark.slow

MODEL = POTENTIALS_DIR / "mlp" / "sico"
SPEC = "mace:potentials/mlp/sico"
SYSTEMS = ("Si/graphene", "Si/graphite", "SiO2/graphene")
MET = ("C bilayer", "Li-Si", "Si")  # the lisic systems it also covers
MISSED = pytest.mark.xfail(strict=True, reason="measured above issue 16's bound; needs more Si/C labels "
                           "(active learning): see potentials/mlp/sico/NOTES.md")
CASES = ("si_graphene_wsep_2p3_cp2k", "si_graphene_wsep_3p1_cp2k", "si_graphite_wsep_2p6_cp2k", "si_graphite_wsep_2p8_cp2k",
         "sio2_graphene_wsep_2p5_cp2k", "li_si_graphene_gap_insertion_cp2k", "li_sio2_graphene_gap_insertion_cp2k")


@pytest.fixture(scope="module")
def test_errors():
    from contactflow.engines import get_calculator
    from contactflow.mlp.data import read_extxyz
    from contactflow.mlp.metrics import errors_by_system, predict

    frames = read_extxyz(MODEL / "data" / "test.extxyz")
    return errors_by_system(predict(get_calculator(SPEC, "cpu"), frames))


def test_card_reports_what_the_committee_gives(test_errors):
    card = json.loads((MODEL / "manifest.json").read_text())
    assert set(card["elements"]) == {"C", "Li", "O", "Si"} and card["baseline"] == "d3"
    assert set(SYSTEMS) <= set(test_errors)


@pytest.mark.parametrize("system", MET)
def test_held_out_errors_on_the_lisic_systems(test_errors, system):
    e = test_errors[system]
    assert e["energy_mae_meV_per_atom"] <= 5.0 and e["force_mae_eV_per_A"] <= 0.10, e


@pytest.mark.parametrize("system", ["Si/graphene", "Si/graphite"])
def test_forces_on_the_si_c_contacts(test_errors, system):
    assert test_errors[system]["force_mae_eV_per_A"] <= 0.10, test_errors[system]


@MISSED
@pytest.mark.parametrize("system", SYSTEMS)
def test_held_out_energy_on_the_contacts(test_errors, system):
    assert test_errors[system]["energy_mae_meV_per_atom"] <= 5.0, test_errors[system]


@MISSED
def test_held_out_forces_on_sio2_graphene(test_errors):
    assert test_errors["SiO2/graphene"]["force_mae_eV_per_A"] <= 0.10


@pytest.mark.parametrize("system", [*MET, "Si/graphene", "Si/graphite", "all"])
def test_committee_spread_ranks_the_true_force_error(test_errors, system):
    assert test_errors[system]["uncertainty_force_error_spearman"] >= 0.5, test_errors[system]


@MISSED
def test_committee_spread_ranks_the_force_error_on_sio2_graphene(test_errors):
    assert test_errors["SiO2/graphene"]["uncertainty_force_error_spearman"] >= 0.5  # measured 0.499


def test_engine_table_against_own_cp2k_on_the_recipes_cells(store):
    from contactflow.cli import app

    args = ["validate", "--format", "json", "--engine", SPEC, "--engine", "chgnet+d3"]
    for c in CASES:
        args += ["--case", c]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    docs = {(d["engine"], d["case_id"]): d for d in store.find("validation", {})}
    for c in CASES:
        for eng in (SPEC, "chgnet+d3"):
            d = docs[(eng, c)]  # measured and kept, pass or fail
            assert d["status"] in ("pass", "fail") and d["signed_error"] == pytest.approx(d["value"] - d["reference_value"])
        assert docs[(SPEC, c)]["committee_std"] is not None  # the committee states its spread
    # the one the committee meets: quartz/graphene W_sep within ±0.05 J/m² of CP2K (measured −0.030)
    assert docs[(SPEC, "sio2_graphene_wsep_2p5_cp2k")]["status"] == "pass"
    # the shipped record holds the same figures this run gives
    from contactflow.engines.auto import load_record

    rec = load_record()["engines"][SPEC]["cases"]
    for c in CASES:
        assert rec[c]["signed_error"] == pytest.approx(docs[(SPEC, c)]["signed_error"], abs=1e-6)


@MISSED
@pytest.mark.parametrize("case", [c for c in CASES if c != "sio2_graphene_wsep_2p5_cp2k"])
def test_engine_within_bounds_of_own_cp2k(case):
    # the shipped record's figures (the table test above checks they are what the committee gives now)
    from contactflow.engines.auto import load_record

    c = load_record()["engines"][SPEC]["cases"][case]
    assert c["status"] == "pass", (c["signed_error"], c["tolerance"])
