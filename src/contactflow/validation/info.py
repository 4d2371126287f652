"""What ``contactflow engines`` shows: each engine's elements, speed per atom (measured once, cached under
``$CONTACTFLOW_HOME``), validation summary and the source of its weights."""

import json
import time

from contactflow.paths import contactflow_home

SPEED_FILE = "engine_speed.json"


def _speed_cache() -> dict:
    p = contactflow_home() / SPEED_FILE
    return json.loads(p.read_text()) if p.is_file() else {}


def measure_speed(spec: str) -> float:
    """Seconds per atom of one energy+forces single point on 64-atom c-Si (after a warm-up call)."""
    from ase.build import bulk

    from contactflow.engines import get_calculator

    atoms = bulk("Si", "diamond", a=5.431, cubic=True) * (2, 2, 2)
    atoms.calc = get_calculator(spec, "cpu", ("energy", "forces"))
    atoms.get_forces()
    atoms.rattle(0.01, seed=1)
    t = time.perf_counter()
    atoms.get_forces()
    return (time.perf_counter() - t) / len(atoms)


def engine_rows(measure: bool = False) -> list[dict]:
    """One row per listed engine (engines that cannot load here say why)."""
    from contactflow.engines import engine_info, parse_spec
    from contactflow.engines.auto import load_record
    from contactflow.engines.checks import supported_elements
    from contactflow.engines.registry import backend

    rec = load_record()
    speeds = {**rec.get("speed_s_per_atom", {}), **_speed_cache()}
    rows = []
    from contactflow.engines.registry import shipped_specs

    for spec in shipped_specs():  # the engine registry says what ships
        row = {"spec": spec, "kind": backend(spec).kind, "elements": "", "ms_per_atom": "not measured",
               "validated": "never", "mean_abs_rel_error": "", "weights": ""}
        try:
            canon = parse_spec(spec).canonical
            row["spec"] = canon
            have = supported_elements(canon)
            row["elements"] = ("all (Z ≤ 94)" if have is not None and len(have) > 80 else
                               ", ".join(sorted(have)) if have is not None else "any")
            info = engine_info(canon, "cpu")
            row["weights"] = info.model_path or ("CP2K basis/pseudopotentials in /usr/share/cp2k"
                                                 if backend(canon).kind == "dft" else "")
            if measure and backend(canon).kind != "dft":
                speeds[canon] = measure_speed(canon)
                p = contactflow_home() / SPEED_FILE
                p.write_text(json.dumps({**_speed_cache(), canon: speeds[canon]}, indent=1))
        except Exception as exc:  # noqa: BLE001  an engine that cannot load here is listed with the reason
            row["weights"] = f"unavailable here: {exc}"[:120]
        if row["spec"] in speeds:
            row["ms_per_atom"] = f"{1000 * speeds[row['spec']]:.2f}"
        e = rec.get("engines", {}).get(row["spec"])
        if e:
            row["validated"] = f"{e['n_pass']}/{e['n_cases']} pass ({e['n_skipped']} skipped, {rec.get('generated')})"
            m = e.get("mean_abs_relative_error")
            row["mean_abs_rel_error"] = f"{100 * m:.0f} %" if m is not None else ""
        rows.append(row)
    return rows
