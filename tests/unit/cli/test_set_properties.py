"""Property-based (hypothesis): any ``--set TASK.FIELD=VALUE`` string gives ``(task, field, value)`` or one
ContactflowError line (``yaml.safe_load`` only) — never a traceback, whatever YAML cannot construct."""

import pytest
import yaml
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from contactflow.cli.common import parse_set_value
from contactflow.errors import ContactflowError

yaml_values = st.one_of(
    st.sampled_from(["true", "false", "3", "0.05", "[1, 2]", "{a: 1}", "null", "", "2026-02-30", "2026-01-01",
                     "!!float x", "!!int 0x", "!!timestamp y", "!!binary z", "!!python/object:os.system x",
                     "&a [*a]", "[" * 1500, "{", "'unterminated", "- a\n- b", "1:2:3", ".nan", "~"]),
    st.text(max_size=30),
    st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=5)),
                 lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
                 max_leaves=6).map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip()),
)
keys = st.one_of(st.sampled_from(["adhesion.relax", "adhesion.registry_grid", "traction-separation.n_points",
                                  "adhesion", ".relax", "adhesion.", " adhesion . relax "]), st.text(max_size=12))
items = st.one_of(st.builds(lambda k, v: f"{k}={v}", keys, yaml_values), st.text(max_size=40))

PROPS = settings(max_examples=200, deadline=None, database=None)


@PROPS
@example("adhesion.relax=2026-02-30")
@example("adhesion.relax=!!float x")
@example("adhesion.relax=" + "[" * 1500)
@given(items)
def test_set_value_is_parsed_or_one_error_line(item):
    try:
        task, field, value = parse_set_value(item)
    except ContactflowError as exc:
        assert str(exc).startswith("--set ") and "\n" not in str(exc)
        event("error")
        return
    event("value")
    assert task and field and "=" in item


def test_valid_values_are_yaml_typed():
    assert parse_set_value("adhesion.relax=false") == ("adhesion", "relax", False)
    assert parse_set_value("traction-separation.n_points=12") == ("traction_separation", "n_points", 12)
    assert parse_set_value("adhesion.registry_grid=[3, 3]") == ("adhesion", "registry_grid", [3, 3])
    with pytest.raises(ContactflowError, match=r"--set 'adhesion.relax=2026-02-30': the value holds a value YAML cannot read"):
        parse_set_value("adhesion.relax=2026-02-30")


@pytest.mark.parametrize("value", ["2026-02-30", "!!float x", "[" * 1500])
def test_the_pipeline_parse_sets_gives_one_error_line(value):
    from contactflow.api import parse_sets

    with pytest.raises(ContactflowError):
        parse_sets([f"adhesion.relax={value}"], ["adhesion"])
