"""Query layer on a real embedded store: filters return exactly the matching documents of a seeded
store of 1,200 adhesion documents; bad ``--where`` expressions give specific errors (no eval)."""

import random

import pytest

from contactflow.schemas import AdhesionDoc, InterfaceDoc, Provenance
from contactflow.store.queries import QueryError, build_filter, parse_where, query, resolve_kind

RECIPES = ["si_graphite", "sno2_graphene", "fe3o4_rgo", "lif_graphene", "sio2_graphene", "si_sic"]
SYSTEMS = {"si_graphite": "Si/C", "sno2_graphene": "SnO2/C", "fe3o4_rgo": "Fe3O4/C", "lif_graphene": "LiF/C",
           "sio2_graphene": "SiO2/C", "si_sic": "Si/SiC"}
ENGINES = ["chgnet+d3", "chgnet", "cp2k:pbe-d3", "reaxff:Fe_O_C_H", "mace:potentials/si_c.model"]
N_DOCS = 1200


def tiny_interface():
    """A 4-atom graphene bilayer as a pymatgen Interface (a real structure for InterfaceDoc fixtures)."""
    import numpy as np
    from pymatgen.core import Lattice
    from pymatgen.core.interface import Interface

    a, c = 2.46, 20.0
    latt = Lattice([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])
    frac = [[0, 0, 0.3], [1 / 3, 2 / 3, 0.3], [1 / 3, 2 / 3, 0.4675], [2 / 3, 1 / 3, 0.4675]]
    return Interface(latt, ["C"] * 4, frac, site_properties={"interface_label": ["substrate"] * 2 + ["film"] * 2})


def _adhesion_docs(n: int, seed: int = 7) -> list[AdhesionDoc]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        recipe = RECIPES[i % len(RECIPES)]
        engine = rng.choice(ENGINES)
        failed = rng.random() < 0.1
        w_rigid = None if failed else round(rng.uniform(0.1, 3.0), 4)
        relaxed = rng.random() < 0.6
        w = None if failed else (round(w_rigid * rng.uniform(1.0, 1.3), 4) if relaxed else w_rigid)
        docs.append(AdhesionDoc(
            doc_key=f"ad-{i:06d}", interface_id=f"if-{recipe}-{i % 40:03d}", recipe_name=recipe,
            system=SYSTEMS[recipe], engine=engine, settings={"relax": relaxed, "fmax": 0.05},
            state="failed" if failed else "successful",
            failure_reason="relaxation did not reach fmax in 300 steps" if failed else None,
            area_A2=round(rng.uniform(40, 250), 2), strain_pct=round(rng.uniform(0, 3), 3),
            n_atoms=rng.randrange(60, 400), w_sep_rigid_J_per_m2=w_rigid, w_sep_J_per_m2=w, relaxed=relaxed,
            provenance=Provenance(engine=engine, device=rng.choice(["cpu", "cuda"])),
        ))
    return docs


@pytest.fixture
def seeded(store):
    docs = _adhesion_docs(N_DOCS)
    store.upsert_many(docs)
    assert store.count("adhesion") == N_DOCS
    return store, [store.to_mongo(d) for d in docs]


def _keys(docs):
    return sorted(d["doc_key"] for d in docs)


def test_filters_return_exactly_the_matching_documents(seeded):
    store, ref = seeded
    cases = [
        (dict(recipe="fe3o4_rgo"), lambda d: d["recipe_name"] == "fe3o4_rgo"),
        (dict(engine="cp2k:pbe-d3"), lambda d: d["engine"] == "cp2k:pbe-d3"),
        (dict(system="Si/C"), lambda d: d["system"] == "Si/C"),
        (dict(where="w_sep_J_per_m2>1.0"), lambda d: d["w_sep_J_per_m2"] is not None and d["w_sep_J_per_m2"] > 1.0),
        (dict(where="state==successful"), lambda d: d["state"] == "successful"),
        (dict(where="engine in chgnet+d3,cp2k:pbe-d3"), lambda d: d["engine"] in ("chgnet+d3", "cp2k:pbe-d3")),
        (dict(where="engine not in chgnet,reaxff:Fe_O_C_H"), lambda d: d["engine"] not in ("chgnet", "reaxff:Fe_O_C_H")),
        (dict(recipe="si_graphite", engine="chgnet+d3", where="w_sep_J_per_m2 >= 0.8 and w_sep_J_per_m2 < 2"),
         lambda d: d["recipe_name"] == "si_graphite" and d["engine"] == "chgnet+d3"
         and d["w_sep_J_per_m2"] is not None and 0.8 <= d["w_sep_J_per_m2"] < 2),
        (dict(where=["settings.relax == true", "provenance.device == cuda"]),
         lambda d: d["settings"]["relax"] is True and d["provenance"]["device"] == "cuda"),
        (dict(where="failure_reason != null"), lambda d: d["failure_reason"] is not None),
        (dict(where="n_atoms <= 100; strain_pct > 2.5"), lambda d: d["n_atoms"] <= 100 and d["strain_pct"] > 2.5),
    ]
    for kwargs, pred in cases:
        got = query(store, "adhesion", **kwargs)
        want = [d for d in ref if pred(d)]
        assert want, f"seed gives no match for {kwargs}; the case tests nothing"
        assert _keys(got) == _keys(want), kwargs
        assert all("_id" not in d for d in got)


def test_default_sort_is_recipe_then_w_sep_descending(seeded):
    store, _ = seeded
    got = query(store, "adhesion", recipe="si_sic", where="state == successful")
    ws = [d["w_sep_J_per_m2"] for d in got]
    assert ws == sorted(ws, reverse=True)


def test_recipe_filter_through_interfaces_for_kinds_without_recipe(store):
    """Kinds whose schema has interface_id but not recipe_name select via the interfaces collection;
    InterfaceDoc has recipe_name itself, so exercise the join on a kind-less filter build."""
    for i, recipe in enumerate(["si_graphite", "si_graphite", "lif_graphene"]):
        store.upsert(InterfaceDoc(
            interface_id=f"if{i}", recipe_name=recipe, recipe_hash="rc-x", system=SYSTEMS[recipe],
            film_formula=SYSTEMS[recipe].split("/")[0], substrate_formula="C", film_miller=[1, 1, 1],
            substrate_miller=[0, 0, 1], termination=["Si_P6/mmm_1", "C_P6/mmm_1"], match_index=i,
            area_A2=60.0 + i, strain_pct=1.0, von_mises_strain_pct=0.9, n_atoms=68, n_film_atoms=20,
            n_substrate_atoms=48, composition={"Si": 20.0, "C": 48.0}, structure=tiny_interface(),
        ))
    got = query(store, "interfaces", recipe="si_graphite", where="area_A2 > 60.5")
    assert [d["interface_id"] for d in got] == ["if1"]
    assert build_filter("interfaces", system="LiF/C") == {"system": "LiF/C"}


@pytest.mark.parametrize("expr, fragment", [
    ("wsep > 1", "unknown field 'wsep'"),
    ("w_sep_J_per_m > 1", "did you mean 'w_sep_J_per_m2'"),
    ("w_sep_J_per_m2 > high", "is a number"),
    ("state == done", "must be one of successful, failed"),
    ("engine > chgnet", "needs a number or date"),
    ("w_sep_J_per_m2", "cannot read"),
    ("__import__('os').system('true')", "cannot read"),
    ("w_sep_J_per_m2 > 1 or state == failed", "only 'and'"),
    ("engine in ,", "comma-separated list"),
    ("provenance > 1", "is a group"),
    ("settings.relax == true and state = 'unterminated", "unterminated"),
    ("w_sep_J_per_m2 > null", "not a comparison"),
    ("relaxed == maybe", "true/false"),
])
def test_bad_where_gives_specific_error(expr, fragment):
    with pytest.raises(QueryError, match=None) as exc:
        parse_where(expr, AdhesionDoc, "adhesion")
    assert fragment in str(exc.value), str(exc.value)


def test_where_is_parsed_not_evaluated():
    # values are data: a Python expression as a text value stays a string in the filter
    flt = parse_where("engine == __import__('os')", AdhesionDoc)
    assert flt == {"engine": {"$eq": "__import__('os')"}}
    assert parse_where("engine in 'a,b', c", AdhesionDoc) == {"engine": {"$in": ["a,b", "c"]}}
    assert parse_where("w_sep_J_per_m2 > 1 and w_sep_J_per_m2 <= 2", AdhesionDoc) == \
        {"w_sep_J_per_m2": {"$gt": 1.0, "$lte": 2.0}}


def test_filters_are_flat_and_lead_with_the_selective_field():
    """The embedded server uses the index of a filter's first field and none inside $and."""
    flt = build_filter("adhesion", system="Si/C", engine="chgnet+d3",
                       where="state == successful and w_sep_J_per_m2 > 1 and recipe_name == si_graphite")
    assert list(flt) == ["recipe_name", "w_sep_J_per_m2", "engine", "system", "state"]
    assert "$and" not in build_filter("adhesion", recipe="x", where="w_sep_J_per_m2 > 1 and w_sep_J_per_m2 < 2")
    # clauses that cannot share a key still combine (and still select correctly, see above)
    assert build_filter("adhesion", recipe="a", where="recipe_name == b")["$and"] == [{"recipe_name": {"$eq": "b"}}]


def test_unknown_kind_and_unregistered_kind():
    with pytest.raises(QueryError, match="valid kinds"):
        resolve_kind("phonons")
    assert resolve_kind("adhesion").name == "adhesion"


# ------------------------------------------------------------------ issue 17: list literals, connectives, --filter


def test_list_literals_raw_filters_and_the_query_cli_on_a_seeded_store(seeded, cli):
    """One seeded store for the three checks (seeding and dropping 1,200 documents is the slow part)."""
    _list_literal_in_where_matches_like_the_comma_list(seeded)
    _raw_filter_is_validated_and_matches_exactly(seeded)
    _query_cli_accepts_filter_and_list_where(seeded, cli)


def _list_literal_in_where_matches_like_the_comma_list(seeded):
    store, ref = seeded
    want = _keys(d for d in ref if d["recipe_name"] in ("si_graphite", "fe3o4_rgo"))
    assert want
    for expr in ('recipe_name in ["si_graphite", "fe3o4_rgo"]', "recipe_name in ['si_graphite','fe3o4_rgo']",
                 "recipe_name in [si_graphite, fe3o4_rgo]", "recipe_name in (si_graphite, fe3o4_rgo)",
                 "recipe_name in si_graphite,fe3o4_rgo"):
        assert _keys(query(store, "adhesion", where=expr)) == want, expr
    nin = _keys(query(store, "adhesion", where='recipe_name not in ["si_graphite"]'))
    assert nin == _keys(d for d in ref if d["recipe_name"] != "si_graphite")


@pytest.mark.parametrize("expr, fragment", [
    ("w_sep_J_per_m2 > 1 and", "'and' at position 20 ends the expression; a clause FIELD OP VALUE must follow it"),
    ("w_sep_J_per_m2 > 1 AND ", "'AND' at position 20 ends the expression"),
    ("and w_sep_J_per_m2 > 1", "'and' at position 1 starts the expression"),
    ("state == successful and and relaxed == true", "'and' at position 25 follows 'and' with no clause between"),
    ("state == successful;", "';' at position 20 ends the expression"),
    ("state == successful && ", "'&&' at position 21 ends the expression"),
    ('recipe_name == ["si_graphite"]', "a list of values needs 'in' or 'not in'"),
    ('recipe_name in ["si_graphite"', "the list opened with '[' is not closed with ']'"),
    ("recipe_name in []", "needs a comma-separated list of values"),
])
def test_connective_and_list_errors_name_the_problem(expr, fragment):
    with pytest.raises(QueryError) as err:
        parse_where(expr, AdhesionDoc)
    assert fragment in str(err.value)


def test_quoted_and_is_a_value_not_a_connective():
    assert parse_where('failure_reason == "a and"', AdhesionDoc) == {"failure_reason": {"$eq": "a and"}}


def _raw_filter_is_validated_and_matches_exactly(seeded):
    from contactflow.store.queries import parse_raw_filter

    store, ref = seeded
    raw = '{"w_sep_J_per_m2": {"$gt": 0.5, "$lte": 2}, "$or": [{"engine": "chgnet"}, {"relaxed": true}]}'
    got = _keys(query(store, "adhesion", raw_filter=raw, where="state == successful"))
    want = _keys(d for d in ref if d["state"] == "successful" and d["w_sep_J_per_m2"] is not None
                 and 0.5 < d["w_sep_J_per_m2"] <= 2 and (d["engine"] == "chgnet" or d["relaxed"]))
    assert got == want and want
    assert parse_raw_filter('{"provenance.started_at": {"$gte": "2026-01-01"}}', AdhesionDoc)[
        "provenance.started_at"]["$gte"].year == 2026


@pytest.mark.parametrize("raw, fragment", [
    ('{"$where": "sleep(1000)"}', "operator '$where' is not allowed"),
    ('{"w_sep_J_per_m2": {"$function": {}}}', "operator '$function' is not allowed"),
    ('{"$expr": {"$gt": ["$a", 1]}}', "operator '$expr' is not allowed"),
    ('{"recipe_name": {"$regex": ".*"}}', "operator '$regex' is not allowed"),
    ('{"settings": {"x": {"$where": "1"}}}', "operators inside the value of 'settings' are not allowed"),
    ('{"w_sep_J_per_m": {"$gt": 1}}', "unknown field 'w_sep_J_per_m'"),
    ('{"w_sep_J_per_m2": "big"}', "field 'w_sep_J_per_m2' takes a number"),
    ('{"state": "done"}', "takes one of successful, failed"),
    ('{"w_sep_J_per_m2": {"$in": 1}}', "takes a list of values"),
    ('[1, 2]', "must be a JSON object"),
    ('{"w_sep_J_per_m2": ', "is not valid JSON"),
    ('{"$or": []}', "takes a non-empty list of filter objects"),
])
def test_raw_filter_refuses_unsafe_or_wrong_filters(raw, fragment):
    from contactflow.store.queries import parse_raw_filter

    with pytest.raises(QueryError) as err:
        parse_raw_filter(raw, AdhesionDoc)
    assert fragment in str(err.value)


def _query_cli_accepts_filter_and_list_where(seeded, cli):
    import json

    store, ref = seeded
    code, out, err = cli("query", "adhesion", "--where", 'recipe_name in ["si_graphite"]',
                         "--filter", '{"w_sep_J_per_m2": {"$gt": 2.5}}', "--format", "json")
    assert code == 0, err
    want = _keys(d for d in ref if d["recipe_name"] == "si_graphite" and (d["w_sep_J_per_m2"] or 0) > 2.5)
    assert _keys(json.loads(out)) == want and want
    code, out, err = cli("query", "adhesion", "--where", "w_sep_J_per_m2 > 1 and")
    assert code == 2 and err.startswith("error: --where") and "position 20" in err and len(err.splitlines()) == 1
