"""Property-based (hypothesis): any recipe YAML text, generated over the recipe schema or as raw
text/bytes, gives through the real CLI (``contactflow recipes show FILE``) either the recipe (exit 0) or
one line ``error: …`` (exit 2) — never a traceback."""

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=80, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
anything = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
                        max_leaves=8)


def maybe(strategy):
    return st.one_of(strategy, strategy, anything)  # mostly well-typed, sometimes anything


BUILDERS = ["crystal", "graphene", "rgo", "n_graphene", "amorphous_carbon", "amorphous", "cluster", "nanotube"]
side = st.fixed_dictionaries({}, optional={
    "builder": maybe(st.sampled_from(BUILDERS)),
    "structure": maybe(st.sampled_from(["Si", "graphite", "SnO2", "Sn", "Unobtainium", "x.cif", "/", ".", "../x.cif"])),
    "miller": maybe(st.lists(st.integers(-12, 12), min_size=0, max_size=4)),
    "layers": maybe(st.integers(-3, 40)), "thickness_A": maybe(st.floats(-1, 100)),
    "termination": maybe(st.integers(-2, 5)), "supercell": maybe(st.lists(st.integers(-1, 30), max_size=3)),
    "o_to_c": maybe(st.floats(-1, 1)), "n_fraction": maybe(st.floats(-1, 1)), "n_atoms": maybe(st.integers(-5, 100)),
    "composition": maybe(st.dictionaries(st.sampled_from(["Li", "Si", "C", "Xx", ""]), st.floats(-2, 5), max_size=3)),
    "passivation": maybe(st.sampled_from(["OH", "H", None])),
    "lithiation": maybe(st.fixed_dictionaries({"li_per_host": st.floats(-1, 2)})),
})
recipe = st.fixed_dictionaries(
    {"name": maybe(st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True)), "film": maybe(side),
     "substrate": maybe(side)},
    optional={
        "match": maybe(st.fixed_dictionaries({}, optional={
            "max_area_A2": maybe(st.floats(allow_nan=True, allow_infinity=True)),
            "max_strain_pct": maybe(st.floats(-5, 50)), "max_candidates": maybe(st.integers(-5, 500))})),
        "gap_A": maybe(st.floats(-5, 20)), "vacuum_A": maybe(st.floats(-5, 100)),
        "registry": maybe(st.sampled_from(["as_built", "coupled", "non_aligned", "x"])),
        "engine": maybe(st.sampled_from(["chgnet+d3", "chgnet+d3+d3", "CHGNet + D3", "cp2k", "mace:", "nonsense",
                                         "reaxff:Fe_O_C_H", "reaxff:nosuch"])),
        "tasks": maybe(st.lists(st.sampled_from(["adhesion", "neb", "traction_separation", "bogus"]), max_size=3)),
        "extra_key": anything,
    })


def _show(cli, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "r.yaml"
        path.write_bytes(data)
        code, out, err = cli("recipes", "show", str(path))
    assert "Traceback" not in err, err
    event(f"exit {code}")
    if code == 0:
        assert out.startswith("# recipe_hash: rc-")
    else:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)


@SETTINGS
@given(recipe)
def test_generated_recipes_give_a_recipe_or_one_error_line(cli, data):
    _show(cli, yaml.safe_dump(data, allow_unicode=True).encode())


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                 st.sampled_from([b"[" * 1500, b"name: 2026-02-30", b"a: !!float x", b"a: !!timestamp y",
                                  b"&a [*a]", b"name: !!python/object:os.system x", b"\xff\xfe\x00"])))
def test_raw_text_and_bytes_give_one_error_line(cli, data):
    _show(cli, data)
