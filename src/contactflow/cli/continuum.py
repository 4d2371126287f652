"""``contactflow continuum delamination``: the reference continuum consumer of the CZM export."""

import json
import sys
from pathlib import Path

import typer

from contactflow.cli.common import app, console, emit, err_console

continuum_app = typer.Typer(help="Continuum models fed by the store.", no_args_is_help=True)
app.add_typer(continuum_app, name="continuum")

COLUMNS = [("engine", "engine"), ("interface_id", "interface"), ("w_sep_J_per_m2", "W_sep J/m²"),
           ("sigma_max_GPa", "σ_max GPa"), ("delta_c_A", "δ_c Å"), ("onset_strain_pct", "onset %"),
           ("delamination_strain_pct", "delamination %"), ("delamination_volume_change_pct", "ΔV/V %"),
           ("unstable", "snap"), ("shell_hoop_at_onset_swelling_GPa", "shell hoop GPa")]


@continuum_app.command("delamination")
def delamination(
    recipe: str = typer.Argument(None, help="Recipe whose cohesive law(s) to use (from the store)."),
    czm: Path = typer.Option(None, "--czm", help="Read the law(s) from a 'contactflow export czm --format json' file."),
    engine: str = typer.Option(None, "--engine", help="Only this engine spec."),
    interface: str = typer.Option(None, "--interface", help="Only this interface_id."),
    core_radius_nm: float = typer.Option(50.0, "--core-radius-nm", help="Si core radius, nm."),
    shell_thickness_nm: float = typer.Option(5.0, "--shell-thickness-nm", help="Carbon shell thickness, nm."),
    core_E: float = typer.Option(160.0, "--core-youngs-GPa", help="Core Young's modulus, GPa (LixSi: ~35–90)."),
    core_nu: float = typer.Option(0.22, "--core-poisson", help="Core Poisson ratio."),
    shell_E: float = typer.Option(100.0, "--shell-youngs-GPa", help="Shell Young's modulus, GPa."),
    shell_nu: float = typer.Option(0.2, "--shell-poisson", help="Shell Poisson ratio."),
    plot: Path = typer.Option(None, "--plot", help="Write the stress–strain plot (PNG) here."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
):
    """Misfit (lithiation) strain at which a Si core delaminates from its carbon shell.

    Lamé thick-shell elasticity with the exported cohesive law at the interface: the interface
    softens at the peak traction (onset) and has delaminated when 95 % of W_sep is spent.
    """
    from contactflow.continuum.czm import ExportError, laws_from_json, load_laws
    from contactflow.continuum.delamination import CoreShellParticle, plot_delamination, predict_delamination

    if czm is None and recipe is None:
        raise ExportError("give a RECIPE (laws from the store) or --czm FILE (a JSON CZM export)")
    if czm is not None:
        if not czm.is_file():
            raise ExportError(f"CZM file not found: {czm}")
        laws = laws_from_json(czm.read_text())
        laws = [lw for lw in laws if (not engine or lw.engine == engine) and (not interface or lw.interface_id == interface)]
        if not laws:
            raise ExportError(f"{czm} holds no law for engine {engine!r} / interface {interface!r}")
    else:
        from contactflow.store import open_store

        with open_store() as store:
            laws = load_laws(store, recipe, engine=engine, interface_id=interface)
    particle = CoreShellParticle(core_radius_nm=core_radius_nm, shell_thickness_nm=shell_thickness_nm,
                                 core_youngs_GPa=core_E, core_poisson=core_nu, shell_youngs_GPa=shell_E,
                                 shell_poisson=shell_nu)
    results = [predict_delamination(law, particle) for law in laws]
    rows = [r.summary() for r in results]
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        emit(rows, fmt, COLUMNS, f"Core–shell delamination — {recipe or czm}")
    weakest = min(results, key=lambda r: r.delamination_strain)
    if fmt == "table":
        console.print(
            f"delamination (weakest law: {weakest.law.engine}, {weakest.law.interface_id}) at a misfit strain of "
            f"{weakest.delamination_strain * 100:.3g} % (volume change {weakest.delamination_volume_change_pct:.3g} %); "
            f"the interface starts to soften at {weakest.onset_strain * 100:.3g} %"
            + (" and then snaps open" if weakest.unstable else "") + ". Swelling compresses the interface; it opens "
            "when the core shrinks relative to the shell (delithiation). Linear elasticity: read strains beyond a few "
            "percent as an upper bound.", highlight=False)
    if plot is not None:
        plot_delamination(weakest, plot)
        err_console.print(f"wrote {plot}")
