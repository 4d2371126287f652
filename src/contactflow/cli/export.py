"""``contactflow export czm|diffusivity|pybamm``: results in the input syntax of continuum codes."""

import sys
from pathlib import Path

import typer

from contactflow.cli.common import app, check_output_path, err_console, write_output

export_app = typer.Typer(help="Export cohesive-zone laws and diffusivities for FEA, phase-field and battery models.",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")


def _write(text: str, out: Path | None, force: bool) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    write_output(out, text, force, option="--out/-o")
    err_console.print(f"wrote {out}")


def _check_out(out: Path | None, force: bool) -> None:
    """Refuse an unusable or existing output file before querying the store."""
    if out is not None:
        check_output_path(out, force, option="--out/-o")


@export_app.command("czm")
def export_czm_cmd(
    recipe: str = typer.Argument(..., help="Recipe name whose traction–separation results to export."),
    fmt: str = typer.Option("json", "--format", help="json, abaqus or moose."),
    engine: str = typer.Option(None, "--engine", help="Only this engine spec."),
    interface: str = typer.Option(None, "--interface", help="Only this interface_id."),
    where: list[str] = typer.Option(None, "--where", help="Extra filter, e.g. 'sigma_max_GPa > 1'."),
    units: str = typer.Option("GPa-nm", "--units", help="Consistent unit system: GPa-nm (default), SI or MPa-mm."),
    moose_law: str = typer.Option("SalehaniIrani3DCTraction", "--moose-law",
                                  help="MOOSE traction law: SalehaniIrani3DCTraction or BiLinearMixedModeTraction."),
    boundary: str = typer.Option("interface", "--boundary", help="MOOSE boundary name of the cohesive interface."),
    shear_factor: float = typer.Option(1.0, "--shear-factor",
                                       help="Shear stiffness/strength as a multiple of the normal ones."),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (default: stdout)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
):
    """Cohesive-zone parameters (normal stiffness, σ_max, δ_c, W_sep, engine, provenance)."""
    from contactflow.continuum.czm import FORMATS, ExportError, export_czm, load_laws
    from contactflow.store import open_store

    if fmt not in FORMATS:
        raise ExportError(f"unknown CZM export format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    _check_out(out, force)
    with open_store() as store:
        laws = load_laws(store, recipe, engine=engine, interface_id=interface, where=where)
    kw = {"shear_factor": shear_factor}
    if fmt == "moose":
        kw.update(law_type=moose_law, boundary=boundary)
    _write(export_czm(laws, fmt, units=units, **kw), out, force)


def _diffusivity(recipe, engine, system, where, species, fmt, strain_pct, t_ref, out, force=False) -> None:
    from contactflow.continuum.diffusivity import FORMATS, ExportError, export_diffusivity, load_points
    from contactflow.store import open_store

    if fmt not in FORMATS:
        raise ExportError(f"unknown diffusivity export format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    _check_out(out, force)
    with open_store() as store:
        pts = load_points(store, recipe=recipe, engine=engine, system=system, where=where, species=species)
    _write(export_diffusivity(pts, fmt, strain_pct=strain_pct, reference_temperature_K=t_ref), out, force)


@export_app.command("diffusivity")
def export_diffusivity_cmd(
    recipe: str = typer.Argument(None, help="Recipe name (default: all)."),
    fmt: str = typer.Option("csv", "--format", help="csv, json, pybamm (Python module) or pybamm-json."),
    engine: str = typer.Option(None, "--engine", help="Only this engine spec."),
    system: str = typer.Option(None, "--system", help="Only this system, e.g. Li15Si4."),
    where: list[str] = typer.Option(None, "--where", help="Extra filter on the MD documents."),
    species: str = typer.Option("Li", "--species", help="Diffusing species."),
    strain_pct: float = typer.Option(None, "--strain-pct", help="PyBaMM: use the fit at the strain closest to this."),
    t_ref: float = typer.Option(298.15, "--reference-temperature", help="PyBaMM reference temperature, K."),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (default: stdout)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
):
    """D(T, strain) table from MD (replicas averaged; Arrhenius fit per strain in JSON/PyBaMM)."""
    _diffusivity(recipe, engine, system, where, species, fmt, strain_pct, t_ref, out, force)


@export_app.command("pybamm")
def export_pybamm_cmd(
    recipe: str = typer.Argument(None, help="Recipe name (default: all)."),
    fmt: str = typer.Option("pybamm", "--format", help="pybamm (Python module with get_parameter_values()) or pybamm-json."),
    engine: str = typer.Option(None, "--engine", help="Only this engine spec."),
    system: str = typer.Option(None, "--system", help="Only this system."),
    where: list[str] = typer.Option(None, "--where", help="Extra filter on the MD documents."),
    species: str = typer.Option("Li", "--species", help="Diffusing species."),
    strain_pct: float = typer.Option(None, "--strain-pct", help="Use the fit at the strain closest to this."),
    t_ref: float = typer.Option(298.15, "--reference-temperature", help="Reference temperature, K."),
    out: Path = typer.Option(None, "--out", "-o", help="Output file (default: stdout)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
):
    """A PyBaMM parameter set (negative-particle diffusivity with its Arrhenius temperature dependence)."""
    if fmt not in ("pybamm", "pybamm-json"):
        from contactflow.continuum.czm import ExportError

        raise ExportError(f"unknown PyBaMM export format {fmt!r}; valid formats: pybamm, pybamm-json")
    _diffusivity(recipe, engine, system, where, species, fmt, strain_pct, t_ref, out, force)
