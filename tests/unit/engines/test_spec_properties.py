"""Property-based (hypothesis): any engine spec string gives a canonical EngineSpec or one EngineSpecError;
the canonical form is a fixed point, has each modifier once, and through the real CLI a spec is a result
or one line ``error: …`` (exit 2)."""

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contactflow.engines.calculators import BASE_ENGINES, MODIFIERS, parse_spec
from contactflow.errors import EngineSpecError


def _case(s: str):
    return st.sampled_from([s, s.upper(), s.title(), f" {s} ", f"{s}\t"])


bases = st.one_of(st.sampled_from(BASE_ENGINES).flatmap(_case), st.sampled_from(["", "vasp", "chg net", "mace "]))
args = st.one_of(st.just(""), st.sampled_from([":pbe-d3", ":PBE-D3-tight", ":b3lyp", ":Fe_O_C_H", ":nosuch", ":",
                                               ":potentials/mlp/lisic", ": pbe-d3 ", ":" + "a" * 300]),
                 st.text(max_size=12).map(lambda t: ":" + t))
mods = st.lists(st.one_of(st.sampled_from(MODIFIERS).flatmap(_case), st.sampled_from(["", "d4", " D3 "])), max_size=3)
valid_ish = st.builds(
    lambda b, m: b + "".join("+" + x for x in m),
    st.one_of(_case("chgnet"), st.sampled_from(["cp2k", "cp2k:pbe-d3", "CP2K : PBE-D3-Tight", "reaxff:Fe_O_C_H",
                                                "mace:potentials/mlp/lisic", " MACE : potentials/mlp/lisic "])),
    st.lists(st.sampled_from(MODIFIERS).flatmap(_case), max_size=2))
specs = st.one_of(valid_ish, valid_ish, valid_ish, st.builds(lambda b, a, m: b + a + "".join("+" + x for x in m), bases, args, mods),
                  st.text(max_size=30))


@settings(max_examples=400, deadline=None, database=None)
@given(specs)
def test_any_spec_is_canonical_or_one_spec_error(spec):
    try:
        parsed = parse_spec(spec)
    except EngineSpecError as exc:
        assert "\n" not in str(exc).strip()
        event("EngineSpecError")
        return
    event(f"ok {parsed.base}")
    canon = parsed.canonical
    assert parse_spec(canon).canonical == canon  # a fixed point: one key per engine
    assert len(set(parsed.modifiers)) == len(parsed.modifiers)
    assert canon == canon.strip() and parsed.base == parsed.base.lower()


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs)
def test_spec_through_the_cli_is_a_result_or_one_error_line(cli, store_server, spec):
    """``plot traction-separation --engine SPEC`` parses the spec, then finds nothing in an empty store:
    both outcomes are one line and exit 2."""
    import tempfile

    env = {"CONTACTFLOW_MONGO_URI": store_server.uri, "CONTACTFLOW_DB": "test_spec_properties"}
    with tempfile.TemporaryDirectory() as d:
        code, _, err = cli("plot", "traction-separation", "si_graphite", "--engine", spec, "--out", f"{d}/p.png",
                           env=env)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    event("spec error" if "spec" in lines[0] or "engine" in lines[0] else "no results")
