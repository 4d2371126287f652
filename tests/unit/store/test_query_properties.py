"""Property-based (hypothesis): any ``--where`` expression or ``--filter`` JSON, generated from the
grammar or as raw text, gives a MongoDB filter or one QueryError — and through the real CLI
(``contactflow query adhesion``, real embedded store) a result (exit 0) or one line ``error: …`` (exit 2)."""

import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contactflow.schemas import AdhesionDoc
from contactflow.store.queries import QueryError, flat_fields, parse_raw_filter, parse_where

FIELDS = sorted(flat_fields(AdhesionDoc))
fields = st.one_of(st.sampled_from(FIELDS), st.sampled_from(["settings.relax", "composition.Si", "w_sep", "x.y."]),
                   st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,10}", fullmatch=True))
ops = st.sampled_from(["==", "=", "!=", ">", ">=", "<", "<=", "in", "not in", "IN", "=<", "=>", "~"])
words = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
                  st.sampled_from(["true", "false", "null", "successful", "failed", "chgnet+d3", "2026-01-01",
                                   "2026-02-30", "and", "or", ""]),
                  st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8))
values = st.one_of(words, words.map(lambda w: f'"{w}"'), words.map(lambda w: f"'{w}'"),
                   st.lists(words, max_size=3).map(lambda ws: "[" + ", ".join(ws) + "]"),
                   st.lists(words, max_size=3).map(lambda ws: ",".join(ws)))
clauses = st.builds(lambda f, o, v: f"{f} {o} {v}", fields, ops, values)
connectives = st.sampled_from([" and ", " AND ", " && ", "; ", " or ", " and", "and ", " ", ""])
SPECS = flat_fields(AdhesionDoc)
NUMBERS = [f for f, sp in SPECS.items() if sp.kind in ("number", "integer")]
TEXTS = [f for f, sp in SPECS.items() if sp.kind == "text"]
BOOLS = [f for f, sp in SPECS.items() if sp.kind == "bool"]
numbers = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(-1e6, 1e6, allow_nan=False).map(repr))
texts = st.from_regex(r"[A-Za-z0-9_+:/-]{1,10}", fullmatch=True)
good_clauses = st.one_of(
    st.builds(lambda f, o, v: f"{f} {o} {v}", st.sampled_from(NUMBERS), st.sampled_from(["==", "!=", ">", ">=", "<", "<="]), numbers),
    st.builds(lambda f, o, v: f"{f} {o} {v}", st.sampled_from(TEXTS), st.sampled_from(["==", "!="]), texts),
    st.builds(lambda f, o, vs: f"{f} {o} [{', '.join(repr(v) for v in vs)}]", st.sampled_from(TEXTS),
              st.sampled_from(["in", "not in"]), st.lists(texts, min_size=1, max_size=3)),
    st.builds(lambda f, v: f"{f} == {v}", st.sampled_from(BOOLS), st.sampled_from(["true", "false", "null"])),
    st.builds(lambda v: f"state == {v}", st.sampled_from(["successful", "failed"])),
)
expressions = st.one_of(
    st.lists(good_clauses, min_size=1, max_size=4).map(" and ".join),
    st.builds(lambda cs, js: "".join(c + j for c, j in zip(cs, js)),
              st.lists(st.one_of(clauses, good_clauses), min_size=1, max_size=4),
              st.lists(connectives, min_size=4, max_size=4)),
    st.text(max_size=40),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6))
json_ops = st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$size", "$not",
                            "$all", "$where", "$function", "$expr", "$regex", "$and", "$or", "eq"])
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(
    st.one_of(json_ops, st.sampled_from(FIELDS)), c, max_size=3), max_leaves=8)
good_filters = st.one_of(
    st.builds(lambda f, o, v: {f: {o: v}}, st.sampled_from(NUMBERS), st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$ne"]),
              st.floats(-1e6, 1e6, allow_nan=False)),
    st.builds(lambda f, vs: {f: {"$in": vs}}, st.sampled_from(TEXTS), st.lists(texts, max_size=3)),
    st.builds(lambda f, e: {f: {"$exists": e}}, st.sampled_from(sorted(SPECS)), st.booleans()),
)
filters = st.one_of(
    st.lists(good_filters, min_size=1, max_size=3).map(lambda fs: json.dumps({"$and": fs})),
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), json_ops), json_values, max_size=3).map(json.dumps),
    st.text(max_size=30),
)

FAST = settings(max_examples=300, deadline=None, database=None)
VIA_CLI = settings(max_examples=30, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FAST
@given(expressions)
def test_where_gives_a_filter_or_a_query_error(expr):
    try:
        flt = parse_where(expr, AdhesionDoc)
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)
        event("QueryError")
        return
    assert isinstance(flt, dict)
    event("filter")


@FAST
@given(filters)
def test_raw_filter_gives_a_filter_or_a_query_error(text):
    try:
        flt = parse_raw_filter(text, AdhesionDoc)
    except QueryError:
        event("QueryError")
        return
    event("filter")
    assert not any(k in json.dumps(flt, default=str) for k in ('"$where"', '"$function"', '"$expr"', '"$regex"'))


@pytest.fixture(scope="module")
def shared_store(store_server):
    """One database for all the CLI examples (read-only: queries only)."""
    import uuid

    import pymongo

    db = f"test_{uuid.uuid4().hex[:12]}"
    yield {"CONTACTFLOW_MONGO_URI": store_server.uri, "CONTACTFLOW_DB": db}
    with pymongo.MongoClient(store_server.uri) as c:
        c.drop_database(db)


def _one_line_or_ok(code: int, err: str) -> None:
    assert "Traceback" not in err, err
    if code != 0:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    event(f"exit {code}")


@VIA_CLI
@given(expressions)
def test_where_through_the_cli(cli, shared_store, expr):
    code, _, err = cli("query", "adhesion", "--where", expr, "--format", "json", env=shared_store)
    _one_line_or_ok(code, err)


@VIA_CLI
@given(filters)
def test_filter_through_the_cli(cli, shared_store, text):
    code, _, err = cli("query", "adhesion", "--filter", text, "--format", "json", env=shared_store)
    _one_line_or_ok(code, err)
