"""``contactflow engines``: every engine the registry ships, with elements, validation summary and weights."""

import json

from contactflow.engines import parse_spec
from contactflow.engines.auto import load_record
from contactflow.engines.registry import shipped_specs


def test_engines_lists_what_the_registry_ships_with_its_validation_record(cli):
    code, out, err = cli("engines", "--format", "json")
    assert code == 0, err
    rows = {r["spec"]: r for r in json.loads(out)}
    assert list(rows) == [parse_spec(s).canonical for s in shipped_specs()]
    assert {"chgnet+d3", "mace:potentials/mlp/lisic", "reaxff:cho", "cp2k:pbe-d3"} <= set(rows)
    assert rows["mace:potentials/mlp/lisic"]["elements"] == "C, Li, Si"
    assert rows["mace:potentials/mlp/lisic"]["weights"].endswith("potentials/mlp/lisic")
    assert {"C", "H", "O"} == set(rows["reaxff:cho"]["elements"].split(", "))
    rec = load_record()["engines"]
    for spec, r in rows.items():
        if spec in rec:
            assert r["validated"].startswith(f"{rec[spec]['n_pass']}/{rec[spec]['n_cases']} pass")
        else:
            assert r["validated"] == "never"
