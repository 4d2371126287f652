"""The task registry: name → Maker, document kind, table columns, dispatch category, engine needs, help.

The CLI (``run``/``submit``/``recipes show``/``query``), the flows, the store's query kinds and the
README read this table; nothing else lists the tasks. Adding a task is one :class:`TaskSpec` entry
plus its Maker module in ``jobs/`` (README, "Extend"). Makers are imported lazily, so reading the
registry loads no model.
"""

import dataclasses
import importlib
from dataclasses import dataclass

from contactflow.errors import ContactflowError, MakerFieldError

_ID = (("recipe_name", "recipe"), ("system", "system"), ("engine", "engine"), ("state", "state"))


@dataclass(frozen=True)
class TaskSpec:
    """One recipe task.

    Parameters
    ----------
    name
        Task name in recipes, ``--task`` and ``--set TASK.FIELD=VALUE``.
    maker
        ``"module:Class"`` of its Maker (``make(prepared, interface_id, recipe_name)``).
    kind
        Store collection its documents land in.
    help
        One line for ``--help`` and ``recipes show``.
    columns
        ``(field, header)`` pairs of its result table.
    needs
        ``any`` or ``bond_breaking``: the physics the engine must describe (pull-off breaks bonds: a
        reactive force field, DFT or a trained model; a universal MLP is not trusted there).
    relaxed
        Whether the task wants the prepared interface relaxed (the preparation then relaxes it once).
    uses_engine
        ``False`` for pure analysis (descriptors): no engine, dispatch category ``small``.
    title
        Title of its result table.
    """

    name: str
    maker: str
    kind: str
    help: str
    columns: tuple[tuple[str, str], ...] = ()
    needs: str = "any"
    relaxed: bool = False
    uses_engine: bool = True
    title: str = ""

    def maker_class(self):
        """The Maker class (imported on first use)."""
        module, _, cls = self.maker.partition(":")
        return getattr(importlib.import_module(module), cls)

    def field_names(self) -> list[str]:
        """The Maker's settable fields (``name`` and ``engine`` are set by the flow)."""
        return [f.name for f in dataclasses.fields(self.maker_class()) if f.name not in ("name", "engine")]

    def default_engine(self) -> str | None:
        """The Maker's own default engine (used when the recipe's engine cannot do this task's physics)."""
        f = {f.name: f for f in dataclasses.fields(self.maker_class())}.get("engine")
        return f.default if f is not None and isinstance(f.default, str) else None

    def make_maker(self, engine: str | None, fields: dict | None = None):
        """The Maker with ``fields`` applied; bad names, types or ranges → :class:`MakerFieldError`."""
        cls = self.maker_class()
        fields = dict(fields or {})
        bad = sorted(set(fields) - set(self.field_names()))
        if bad:
            raise MakerFieldError(f"{cls.__name__} has no field(s) {', '.join(bad)}; valid: {', '.join(self.field_names())}")
        if self.uses_engine and engine:
            fields["engine"] = engine
        try:
            return cls(**fields)
        except MakerFieldError:
            raise
        except (TypeError, ValueError) as exc:  # a Maker's own check, or a value of the wrong type
            raise MakerFieldError(f"{cls.__name__}: {exc}") from None


TASKS: dict[str, TaskSpec] = {t.name: t for t in (
    TaskSpec("adhesion", "contactflow.jobs.adhesion:AdhesionMaker", "adhesion",
             "work of separation W_sep, rigid at the prepared registry and gap, and relaxed",
             _ID + (("n_atoms", "atoms"), ("area_A2", "area Å²"), ("strain_pct", "strain %"),
                    ("w_sep_rigid_J_per_m2", "W_sep rigid J/m²"), ("w_sep_J_per_m2", "W_sep J/m²"),
                    ("interface_gap_A", "gap Å")), relaxed=True, title="Work of separation"),
    TaskSpec("traction_separation", "contactflow.jobs.traction:TractionSeparationMaker", "traction_separation",
             "rigid E(d) from the prepared interface → UBER fit → cohesive-zone law (σ_max, δ_c, W_sep)",
             _ID + (("n_atoms", "atoms"), ("w_sep_J_per_m2", "W_sep J/m²"), ("sigma_max_GPa", "σ_max GPa"),
                    ("delta_c_A", "δ_c Å"), ("equilibrium_gap_A", "d0 Å"), ("fit_r2", "R²"),
                    ("evaluation_mode", "evaluation")), title="Cohesive-zone law (traction–separation)"),
    TaskSpec("neb", "contactflow.jobs.neb:InterfaceNEBMaker", "barriers",
             "Li hop barriers in the prepared interface's gap and in the film bulk (climbing-image NEB)",
             (("recipe_name", "recipe"), ("system", "system"), ("label", "hop"), ("engine", "engine"),
              ("state", "state"), ("barrier_forward_eV", "E_a fwd eV"), ("barrier_reverse_eV", "E_a rev eV"),
              ("hop_distance_A", "hop Å"), ("reference_barrier_eV", "ref eV")), relaxed=True, title="Li migration barriers (NEB)"),
    TaskSpec("li_adsorption", "contactflow.jobs.li_sites:InterfaceLiAdsorptionMaker", "li_adsorption",
             "Li binding energies at interface sites and on the bare sides",
             (("recipe_name", "recipe"), ("label", "host"), ("engine", "engine"), ("state", "state"),
              ("best_binding_energy_eV", "best E_b eV"), ("n_sites", "sites")), relaxed=True, title="Li adsorption"),
    TaskSpec("pull_off", "contactflow.jobs.pull_off:PullOffMaker", "pull_off",
             "MD pull-off of the film: traction vs opening, peak traction, fracture energy (bonds break)",
             _ID + (("temperature_K", "T K"), ("peak_traction_GPa", "σ_peak GPa"),
                    ("fracture_energy_J_per_m2", "G J/m²"), ("separated", "separated")),
             needs="bond_breaking", relaxed=True, title="Pull-off (MD)"),
    TaskSpec("lithiation", "contactflow.jobs.lithiation:LithiationMaker", "lithiation",
             "stepwise Li insertion with MD: volume strain and interface integrity",
             _ID + (("n_atoms_initial", "atoms"), ("max_volume_strain_pct", "max ΔV/V %"),
                    ("integrity_lost_at_n_li", "debond at n_Li")), relaxed=True, title="Lithiation (MD)"),
    TaskSpec("diffusion", "contactflow.jobs.diffusion:DiffusionMaker", "diffusion",
             "Li diffusivity from MD at several temperatures (Arrhenius)",
             _ID + (("species", "species"), ("activation_energy_eV", "E_a eV"),
                    ("activation_energy_stderr_eV", "± eV")), relaxed=True, title="Li diffusion (MD)"),
    TaskSpec("descriptors", "contactflow.jobs.descriptors:DescriptorMaker", "descriptors",
             "contact-area fraction, cross-interface bonds, interphase thickness of the prepared interface",
             (("recipe_name", "recipe"), ("system", "system"), ("n_atoms", "atoms"),
              ("contact_area_fraction", "contact frac"), ("n_cross_bonds", "cross bonds"),
              ("interphase_thickness_A", "interphase Å"), ("interface_gap_A", "gap Å")), uses_engine=False, title="Interface descriptors"),
)}


def task(name: str) -> TaskSpec:
    """A task by name (``-`` and ``_`` are the same); unknown → error naming the valid tasks."""
    key = str(name).strip().replace("-", "_")
    if key not in TASKS:
        raise ContactflowError(f"unknown task {name!r}; valid tasks: {', '.join(TASKS)}")
    return TASKS[key]


def engine_for(task_name: str, default_engine: str, engines: dict | None = None) -> tuple[str | None, str]:
    """The engine a task runs with and why: the recipe's per-task engine, else its default engine,
    unless the task's physics needs what that engine cannot do (then the task's own default).

    Returns
    -------
    (spec or None, reason)
        ``None`` for tasks without an engine.

    Raises
    ------
    ContactflowError
        When a per-task engine cannot do the task's physics.
    """
    from contactflow.engines.auto import is_auto
    from contactflow.engines.registry import backend

    t = task(task_name)
    if not t.uses_engine:
        return None, "analysis only (no engine)"
    given = (engines or {}).get(t.name)
    if is_auto(given) or (not given and is_auto(default_engine)):
        return "auto", "auto: chosen per structure from the validation record (engines.auto.choose)"
    if given:
        if t.needs == "bond_breaking" and not backend(given).bond_breaking:
            raise ContactflowError(
                f"engines.{t.name}: {given!r} is a {backend(given).kind.replace('_', ' ')}, which does not describe "
                f"bond breaking; {t.name} needs a reactive force field (reaxff:…), DFT (cp2k) or a trained model (mace:…)")
        return given, f"recipe engines.{t.name}"
    if t.needs == "bond_breaking" and not backend(default_engine).bond_breaking:
        own = t.default_engine()
        return own, (f"{t.name} breaks bonds; the recipe's {default_engine} ({backend(default_engine).kind.replace('_', ' ')}) "
                     f"does not describe that, so the task's default {own} runs")
    return default_engine, "recipe engine"


def resolve_auto(task_name: str, symbols) -> tuple[str, str]:
    """The engine ``auto`` picks for a task on a structure with these elements, and why
    (:func:`contactflow.engines.auto.choose`, given the task's physics)."""
    from contactflow.engines.auto import choose

    t = task(task_name)
    return choose(symbols, t.name, needs=t.needs)
