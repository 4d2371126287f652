"""Screening campaigns in ``contactflow report``: the Pareto set, the Pareto plot, the hypervolume history
and the design rules of each campaign over the recipe (the toy campaign, stored in the real store)."""

import re

from screening_toy import ToyEvaluator, toy
from contactflow.continuum.report import _cell
from contactflow.screening import feasible, run_screen
from contactflow.screening.pareto import design_rules


def section(html: str, head: str) -> str:
    """The HTML between ``<h4>head</h4>`` and the next heading."""
    start = html.index(f"<h4>{head}")
    return re.split(r"<h[234]>", html[start + 4:], maxsplit=1)[0]


def rows(table_html: str) -> list[list[str]]:
    body = table_html.split("<tbody>", 1)[1] if "<tbody>" in table_html else ""
    return [re.findall(r"<td>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", body)]


def test_report_shows_each_campaign_over_the_recipe(store, cli, tmp_path):
    doc = run_screen(toy(), ToyEvaluator(), store, budget=8, batch=2, seed=1)
    code, _, err = cli("report", "toy_rgo", "--out", tmp_path / "r.html")  # the campaign's base recipe
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    assert "<h2>Screening campaigns</h2>" in html and "<h3>Campaign toy</h3>" in html
    camp = html.split("<h2>Screening campaigns</h2>", 1)[1].split("<h2>", 1)[0]
    assert "data:image/png;base64," in camp  # the Pareto plot with the hypervolume history

    pareto = rows(section(camp, "Pareto set"))
    assert sorted(int(r[0]) for r in pareto) == sorted(doc.pareto) and pareto
    by_index = {e.index: e for e in doc.evaluations}
    for r in pareto:  # designs and objective values as stored
        e = by_index[int(r[0])]
        assert r[1:5] == [_cell(e.design["o_to_c"]), _cell(e.design["a"]),
                          _cell(e.values["adhesion.w_sep_J_per_m2"]), _cell(e.values["descriptors.contact_area_fraction"])]

    hv = rows(section(camp, "Hypervolume history"))
    assert hv == [[str(n), _cell(h)] for n, h in zip(doc.evaluations_history, doc.hypervolume_history)]
    assert [n for n, _ in hv] == ["2", "4", "6", "8"]  # after each batch of 2

    ok = [e for e in doc.evaluations if feasible(toy(), e)]
    expect = design_rules([e.design for e in ok], [e.values for e in ok], toy().variables, toy().objectives)
    rules = rows(section(camp, "Design rules"))
    assert len(rules) == 4 and [(r[0], r[1], r[3]) for r in rules] == [(x["variable"], x["objective"], x["effect"])
                                                                       for x in expect]
    assert len(rows(section(camp, "Evaluations"))) == 8

    # by campaign name too; a recipe without campaigns has no such section
    code, _, err = cli("report", "toy", "--out", tmp_path / "c.html")
    assert code == 0 and "<h3>Campaign toy</h3>" in (tmp_path / "c.html").read_text(), err
    code, _, err = cli("report", "nothing_here", "--out", tmp_path / "n.html")
    assert code == 2 and "holds no results for recipe 'nothing_here'" in err
