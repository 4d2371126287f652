"""The report says how far to trust each number: the uncertainty of every W_sep, the engine × case validation
matrix (cases of the recipe's chemistry first, starred), and every result that is not a good number
(unbound, extrapolating) with its reason — on a real store."""

from contactflow.continuum.report import build_report, uncertainty_text, validation_matrix
from contactflow.schemas import AdhesionDoc
from contactflow.schemas.validation import Reference, ValidationDoc


def _val(case, engine, chem, ref, value, tol, status, system):
    reference = Reference(value=ref, unit="J/m2", method="PBE+D3(BJ)", citation="contactflow CP2K, same cell",
                          source="cp2k", tolerance=tol, tolerance_why="spread of the reference's own settings")
    return ValidationDoc(doc_key=f"val-{case}-{engine}", case_id=case, title=case, engine=engine, chemistry=chem,
                         system=system, task="adhesion", property="w_sep", unit="J/m2", reference_value=ref,
                         reference=reference, value=value, signed_error=value - ref, tolerance=tol, status=status)


def test_report_shows_uncertainty_validation_and_untrusted_results(store):
    store.upsert_many([
        AdhesionDoc(doc_key="ad-ok", interface_id="if-1", recipe_name="si_graphite", system="Si/C", engine="chgnet+d3",
                    state="successful", area_A2=36.8, n_atoms=68, relaxed=False, w_sep_rigid_J_per_m2=0.15,
                    w_sep_J_per_m2=0.15, engine_reason="recipe engine",
                    uncertainty={"source": "validation", "value": 0.102, "unit": "J/m2", "note": "worst C case"}),
        AdhesionDoc(doc_key="ad-ex", interface_id="if-1", recipe_name="si_graphite", system="Si/C",
                    engine="mace:potentials/mlp/lisic", state="extrapolating", area_A2=36.8, n_atoms=68, relaxed=False,
                    w_sep_rigid_J_per_m2=0.43, w_sep_J_per_m2=0.43,
                    failure_reason="committee spread of rigid W_sep 0.220 J/m2 exceeds 0.05 J/m2",
                    uncertainty={"source": "committee", "value": 0.22, "unit": "J/m2", "note": "std"}),
        _val("sic_si_binding", "chgnet+d3", ["Si", "C"], 1.0, 0.8, 0.1, "fail", "SiC/Si"),
        _val("sic_si_binding", "mace:potentials/mlp/lisic", ["Si", "C"], 1.0, 0.95, 0.1, "pass", "SiC/Si"),
        _val("sn10_graphene_binding", "chgnet+d3", ["Sn", "C"], 2.0, 2.05, 0.2, "pass", "Sn10/C"),
    ])
    rows, engines = validation_matrix(store, ["C", "Si"])
    assert engines == ["chgnet+d3", "mace:potentials/mlp/lisic"]
    assert rows[0]["case"] == "★ sic_si_binding" and rows[1]["case"] == "sn10_graphene_binding"  # Si/C first
    assert rows[0]["e:chgnet+d3"] == "-0.200 ✗" and rows[0]["e:mace:potentials/mlp/lisic"] == "-0.050 ✓"
    assert "e:mace:potentials/mlp/lisic" not in rows[1]
    assert uncertainty_text({"source": "unvalidated", "value": None, "note": "no case"}) == "unvalidated (no case)"

    page = build_report(store, "si_graphite", overview="none")
    assert "± 0.102 J/m2 (validation)" in page and "± 0.22 J/m2 (committee)" in page
    assert "★ sic_si_binding" in page and "-0.200 ✗" in page
    untrusted = page.split("Failed and untrusted calculations", 1)[1]
    assert "extrapolating" in untrusted and "exceeds 0.05 J/m2" in untrusted and "ad-ok" not in untrusted
    # a successful result is classed against the review's thresholds; the extrapolating one is not
    classed = page.split("class (review thresholds", 1)[1].split("</table>", 1)[0]
    assert "lisic" not in classed
