"""``contactflow report RECIPE`` (HTML with plots) and ``contactflow compare`` (engines side by side)."""

import json
import sys
import time
from pathlib import Path

import typer

from contactflow.cli.common import app, check_format, check_output_path, console, emit, err_console, write_output


@app.command("report")
def report(
    recipe: str = typer.Argument(..., help="Recipe name."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="HTML file to write."),
    engine: str = typer.Option(None, "--engine", help="Only this engine spec."),
    overview: str = typer.Option("auto", "--overview", help="W_sep across recipes: all, system (same system "
                                 "only), none, or auto (all up to 20,000 adhesion documents, else system)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
):
    """HTML report: W_sep vs the review's thresholds, traction–separation fits, NEB profiles, engines
    compared, delamination prediction, screening campaigns over the recipe (Pareto set and plot,
    hypervolume history, design rules; RECIPE may also be a campaign name), failures (plots embedded as PNG)."""
    from contactflow.continuum.report import build_report
    from contactflow.screening.report import campaign_sections
    from contactflow.store import open_store

    check_output_path(out, force)  # before the work: an existing file is not replaced without --force
    t0 = time.perf_counter()
    with open_store() as store:
        text = build_report(store, recipe, engine=engine, overview=overview,
                            sections=campaign_sections(store, recipe))
    write_output(out, text, force)
    err_console.print(f"wrote {out} ({len(text) / 1024:.0f} KiB, {time.perf_counter() - t0:.1f} s)")


@app.command("compare")
def compare(
    kind: str = typer.Option("adhesion", "--kind", help="adhesion, traction-separation or barriers."),
    field: str = typer.Option(None, "--field", help="Numeric field (default: W_sep, σ_max or the forward barrier)."),
    recipe: str = typer.Option(None, "--recipe", help="Only this recipe."),
    system: str = typer.Option(None, "--system", help="Only this system, e.g. Si/C."),
    where: list[str] = typer.Option(None, "--where", help="Extra filter, e.g. 'relaxed == true'."),
    reference: str = typer.Option(None, "--reference", help="Reference engine (default: a DFT engine if present)."),
    group_by: str = typer.Option(None, "--group-by", help="What makes two results 'the same' (default interface_id; "
                                                          "barriers: label)."),
    include_single: bool = typer.Option(False, "--all", help="Also list interfaces computed with one engine only."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
):
    """The same interfaces across engines (MLP vs ReaxFF vs DFT), with differences to the reference."""
    from contactflow.store import open_store
    from contactflow.store.queries import compare_engines

    check_format(fmt)
    group = group_by or ("label" if kind == "barriers" else "interface_id")
    with open_store() as store:
        res = compare_engines(store, kind, field=field, recipe=recipe, system=system, where=where,
                              reference=reference, include_single=include_single, group_by=group)
    if fmt == "json":
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
        return
    ref = res["reference"]
    others = [e for e in res["engines"] if e != ref]
    rows = []
    for r in res["rows"]:
        row = {group: r[group], "recipe_name": r["recipe_name"], "system": r["system"]}
        row.update({f"v:{e}": r["values"].get(e) for e in res["engines"]})
        row.update({f"d:{e}": r["diff"].get(e) for e in others})
        row.update({f"p:{e}": r["rel_diff_pct"].get(e) for e in others})
        rows.append(row)
    cols = [(group, group), ("recipe_name", "recipe"), ("system", "system")]
    cols += [(f"v:{e}", f"{e}{' (ref)' if e == ref else ''}") for e in res["engines"]]
    cols += [(f"d:{e}", f"{e} − ref") for e in others] + [(f"p:{e}", f"{e} − ref %") for e in others]
    emit(rows, fmt, cols, f"{res['field']} across engines (reference {ref})")
    if fmt == "table":
        for e, s in res["summary"].items():
            if s["n"]:
                console.print(f"{e} vs {ref}: n = {s['n']}, mean difference {s['mean_diff']:+.3f}, "
                              f"mean |difference| {s['mean_abs_diff']:.3f} ({res['field']})", highlight=False)
        if not rows:
            console.print(f"no {res['kind']} result is stored for the same {group} with two engines")
