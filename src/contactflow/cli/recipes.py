"""``contactflow recipes list|show`` and ``contactflow build``: interface recipes and their structures."""

import json
from pathlib import Path

import numpy as np
import typer

from contactflow.cli.common import app, console, emit

recipes_app = typer.Typer(help="List and show interface recipes (shipped workflows/*.yaml and plugins).",
                          no_args_is_help=True)
app.add_typer(recipes_app, name="recipes")

BUILD_COLUMNS = [
    ("rank", "#"), ("interface_id", "interface"), ("n_atoms", "atoms"), ("area_A2", "area Å²"),
    ("strain_pct", "strain %"), ("formula", "formula"), ("termination", "termination"),
    ("substrate_o_to_c", "O/C"), ("cross_min_distance_A", "min across Å"),
]


def _side_text(side) -> str:
    b = getattr(side, "builder", "crystal")
    if b == "crystal":
        return f"{side.structure}{tuple(side.miller)}"
    if b == "cluster":
        return f"{side.structure}{side.n_atoms} cluster"
    if b == "rgo":
        return f"rGO O/C {side.o_to_c:g}"
    if b == "n_graphene":
        return f"N-graphene ({side.kind})"
    if b == "graphene":
        return "graphene" if side.layers == 1 else f"graphite {side.layers}L"
    return b.replace("_", " ")


@recipes_app.command("list")
def recipes_list(fmt: str = typer.Option("table", "--format", help="table, json or csv.")):
    """Shipped and plugin recipes with their film and substrate."""
    from contactflow.cli.common import check_format, print_error
    from contactflow.errors import RecipeError
    from contactflow.recipes import available_recipes, load_recipe
    from contactflow.recipes.loader import recipe_source

    check_format(fmt)
    rows = []
    for name in available_recipes():
        try:
            r = load_recipe(name)
        except RecipeError as exc:  # one broken plugin (or file) must not hide the other recipes
            print_error(f"recipe {name!r} ({recipe_source(name)}) skipped: {exc}", prefix="warning")
            continue
        rows.append({"name": name, "source": recipe_source(name), "film": _side_text(r.film),
                     "substrate": _side_text(r.substrate), "description": r.description})
    emit(rows, fmt, [("name", "recipe"), ("source", "source"), ("film", "film"), ("substrate", "substrate"),
                     ("description", "description")], "Interface recipes")


@recipes_app.command("show")
def recipes_show(name: str = typer.Argument(..., help="Recipe name or YAML path.")):
    """The full recipe (every field, defaults filled in) as YAML, with its hash and the engine each task
    will run with (and why)."""
    import yaml

    from contactflow.api import load_recipe
    from contactflow.flows.tasks import TASKS, engine_for

    r = load_recipe(name)
    console.print(f"# recipe_hash: {r.recipe_hash}", highlight=False)
    console.print(yaml.safe_dump(r.model_dump(mode="json"), sort_keys=False, default_flow_style=None).rstrip(), highlight=False,
                  markup=False)
    console.print("# engine per task (* = in the recipe's tasks):", highlight=False, soft_wrap=True)
    for t in TASKS:
        eng, why = engine_for(t, r.engine, r.engines)
        mark = "*" if t in r.tasks else " "
        console.print(f"#  {mark} {t}: {eng or '—'} ({why})", highlight=False, markup=False, soft_wrap=True)


def candidate_summary(rank: int, cand) -> dict:
    """JSON-ready summary of one candidate (units in the keys)."""
    m = cand.metadata
    iface = cand.interface
    row = {
        "rank": rank, "interface_id": cand.interface_id, "n_atoms": cand.n_atoms,
        "n_film_atoms": len(iface.film_indices), "n_substrate_atoms": len(iface.substrate_indices),
        "area_A2": round(cand.area_A2, 4), "strain_pct": round(cand.strain_pct, 4),
        "von_mises_strain_pct": round(cand.von_mises_strain_pct, 4), "formula": iface.composition.formula,
        "composition": {str(k): int(v) for k, v in iface.composition.as_dict().items()},
        "film_composition": {k: int(v) for k, v in m.get("film_composition", {}).items()},
        "substrate_composition": {k: int(v) for k, v in m.get("substrate_composition", {}).items()},
        "termination": list(cand.termination), "match_index": cand.match_index,
        "gap_A": round(float(m.get("gap_A", iface.gap)), 4),
        "min_distance_A": round(float(m.get("min_distance_A", 0.0)), 4),
        "cross_min_distance_A": round(float(m.get("cross_min_distance_A", 0.0)), 4),
    }
    for k in ("film_o_to_c", "substrate_o_to_c"):
        if k in m:
            row[k] = round(float(m[k]), 4)
    return row


def write_candidate(cand, stem: Path) -> list[str]:
    """Write ``stem.extxyz`` (per-atom interface_label, fixed, group) and ``stem.cif``; return the paths."""
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.io.cif import CifWriter

    iface = cand.interface
    atoms = AseAtomsAdaptor.get_atoms(iface.copy())
    for key in list(atoms.arrays):
        if key not in ("numbers", "positions"):
            del atoms.arrays[key]
    props = iface.site_properties
    atoms.set_array("interface_label", np.array(props["interface_label"], dtype="U16"))
    atoms.set_array("fixed", np.array(props.get("fixed", [False] * len(iface)), dtype=bool))
    atoms.set_array("group", np.array([g or "-" for g in props.get("group", [""] * len(iface))], dtype="U16"))
    atoms.info.clear()
    atoms.info.update(interface_id=cand.interface_id, area_A2=cand.area_A2, strain_pct=cand.strain_pct)
    xyz, cif = stem.with_suffix(".extxyz"), stem.with_suffix(".cif")
    write(xyz, atoms, format="extxyz")
    CifWriter(iface).write_file(cif)
    return [str(xyz), str(cif)]


def _check_out_dir(out: Path, name: str, force: bool, files: list[Path] = ()) -> None:
    """Refuse an --out that is a file or cannot be created, and (without --force) one that already holds
    this recipe's summary or any of the structure files about to be written."""
    from contactflow.cli.common import check_output_path
    from contactflow.errors import ContactflowError

    if out.exists() and not out.is_dir():
        raise ContactflowError(f"--out {out} is a file; give a directory for the structures and the summary")
    check_output_path(out / f"{name}_summary.json", force)
    existing = [str(p) for p in files if p.exists()]
    if existing and not force:
        raise ContactflowError(f"--out {out} already holds {len(existing)} of the files to write (e.g. "
                               f"{existing[0]}); pass --force to overwrite them or choose another directory")


@app.command("build")
def build(
    recipe: str = typer.Argument(..., help="Recipe name (see `contactflow recipes list`) or a YAML file."),
    out: Path = typer.Option(..., "--out", help="Directory for the structures and the summary JSON."),
    max_candidates: int = typer.Option(None, "--max-candidates", help="Keep at most this many candidates."),
    store: bool = typer.Option(True, "--store/--no-store", help="Upsert an InterfaceDoc per candidate."),
    fmt: str = typer.Option("table", "--format", help="Summary printed as table, json or csv."),
    force: bool = typer.Option(False, "--force", help="Overwrite structure and summary files that exist in --out."),
):
    """Build a recipe's interface candidates: extxyz + CIF per candidate, <recipe>_summary.json, store docs."""
    from contactflow.cli.common import check_format
    from contactflow.recipes import load_recipe

    check_format(fmt)
    from contactflow.cli.progress import CliProgress, interactive

    rec = load_recipe(recipe)
    _check_out_dir(out, rec.name, force)
    with CliProgress(interactive(fmt)) as prog:
        prog.stage("build", f"building {rec.name} interfaces (slabs, terminations, lattice matching) …")
        cands = rec.build()
        if max_candidates:
            cands = cands[:max_candidates]
        stems = [out / f"{rec.name}_{i:02d}_{c.interface_id}" for i, c in enumerate(cands)]
        _check_out_dir(out, rec.name, force,
                       [p for s in stems for p in (s.with_suffix(".extxyz"), s.with_suffix(".cif"))])
        prog.stage("write", f"{len(cands)} candidate(s): extxyz + CIF under {out}")
        prog.count(len(cands), "writing candidates")
        rows = []
        for i, c in enumerate(cands):
            row = candidate_summary(i, c)
            row["files"] = write_candidate(c, stems[i])
            rows.append(row)
            prog.advance()
        summary = {"recipe_name": rec.name, "recipe_hash": rec.recipe_hash, "n_candidates": len(rows),
                   "candidates": rows}
        (out / f"{rec.name}_summary.json").write_text(json.dumps(summary, indent=2))
        if store:
            from jobflow import Flow

            from contactflow.dispatch import run_flow_locally
            from contactflow.jobs.prepare import record_interface
            from contactflow.schemas import InterfaceDoc
            from contactflow.store import open_store

            prog.stage("store", f"storing {len(cands)} interface document(s) …")
            with open_store() as st:  # through the JobStore, like every document (one writer)
                run_flow_locally(Flow([record_interface(InterfaceDoc.from_candidate(c, rec.name, rec.recipe_hash))
                                       for c in cands], name=f"build:{rec.name}"), st)
    table_rows = [{**r, "termination": " / ".join(r["termination"])} for r in rows]
    emit(table_rows, fmt, BUILD_COLUMNS, f"{rec.name}: {len(rows)} candidate(s) → {out}")

