"""DescriptorMaker: the interface descriptors of :mod:`contactflow.analysis.descriptors` as a job, and
:func:`describe_stored` for any structure already in the store (an as-built interface, the last frame
of an MD run, a lithiated interface)."""

from dataclasses import dataclass, field

from jobflow import Maker

from contactflow.analysis.descriptors import all_descriptors, as_atoms, split_sides
from contactflow.errors import ContactflowError
from contactflow.jobs.base import contactflow_job, doc_key_for
from contactflow.jobs.md import _system_of
from contactflow.schemas.md import DescriptorDoc
from contactflow.schemas.provenance import Provenance

#: where a stored structure can come from: kind → field holding a pymatgen structure dict
STRUCTURE_FIELDS = {"interfaces": "structure", "md": "final_structure", "lithiation": "final_structure"}


def describe(structure, interface_id: str | None = None, recipe_name: str | None = None, *, engine: str = "none",
             source: str = "interface", film=None, sub=None, settings: dict | None = None) -> DescriptorDoc:
    """Descriptors of one structure as a :class:`DescriptorDoc` (pure apart from timing)."""
    import time

    settings = dict(settings or {})
    if film is None or sub is None:
        film, sub = split_sides(structure)
    t0 = time.perf_counter()
    atoms = as_atoms(structure)
    vals = all_descriptors(atoms, film, sub, **settings)
    key = doc_key_for("desc", {"interface_id": interface_id, "source": source, "engine": engine,
                               "settings": settings, "n": len(atoms),
                               "pos": [round(float(x), 3) for x in atoms.positions.ravel()[:30]]})
    return DescriptorDoc(doc_key=key, interface_id=interface_id, recipe_name=recipe_name,
                         system=_system_of(structure, atoms), engine=engine, source=source, settings=settings,
                         n_atoms=len(atoms), **vals,
                         provenance=Provenance(engine=engine, wall_time_s=time.perf_counter() - t0))


def describe_stored(store, kind: str, key: str, **settings) -> DescriptorDoc:
    """Descriptors of a structure stored in a document (``interfaces``, ``md`` or ``lithiation``) by its key.

    Film and substrate come from the structure's ``interface_label`` site property when present (as-built
    interfaces), else from the widest gap in z.
    """
    from pymatgen.core import Structure
    from pymatgen.core.interface import Interface

    if kind not in STRUCTURE_FIELDS:
        raise ContactflowError(f"cannot describe {kind!r} documents; valid kinds: {', '.join(STRUCTURE_FIELDS)}")
    doc = store.get(kind, key)
    if doc is None:
        raise ContactflowError(f"no {kind} document with key {key!r}")
    data = doc.get(STRUCTURE_FIELDS[kind])
    if not data:
        raise ContactflowError(f"{kind} document {key} holds no structure (state {doc.get('state')})")
    cls = Interface if data.get("@class") == "Interface" else Structure
    structure = cls.from_dict(data)
    return describe(structure, doc.get("interface_id"), doc.get("recipe_name"), engine=doc.get("engine") or "none",
                    source="interface" if kind == "interfaces" else f"{kind}_final", settings=settings)


@dataclass
class DescriptorMaker(Maker):
    """Contact descriptors of an interface: contact-area fraction, cross-interface bonds and coordination,
    interphase thickness, interfacial voids.

    Parameters
    ----------
    name
        Job name.
    engine
        Accepted for the recipe runner's uniform signature; the descriptors use no engine.
    bond_scale
        Bond cutoff = sum of covalent radii × this.
    cutoffs
        Explicit bond cutoffs per element pair, Å, e.g. ``{"Fe-O": 2.3}``.
    contact_distance_A
        Local film–substrate separation counted as contact, Å.
    depth_A
        Thickness of each side's contact layer, Å.
    probe_radius_A
        Probe radius of the void search, Å.
    """

    name: str = "descriptors"
    engine: str = "none"
    bond_scale: float = 1.2
    cutoffs: dict = field(default_factory=dict)
    contact_distance_A: float = 4.0
    depth_A: float = 2.0
    probe_radius_A: float = 1.0

    def settings(self) -> dict:
        return {"bond_scale": self.bond_scale, "cutoffs": self.cutoffs or None,
                "contact_distance_A": self.contact_distance_A, "depth_A": self.depth_A,
                "probe_radius_A": self.probe_radius_A}

    @contactflow_job
    def make(self, prepared, interface_id: str | None = None, recipe_name: str | None = None) -> DescriptorDoc:
        """Describe the prepared (relaxed, when relaxed) interface and return a :class:`DescriptorDoc`."""
        from contactflow.jobs.base import resolve_prepared

        interface, pdoc = resolve_prepared(prepared)
        interface_id = interface_id or (pdoc.interface_id if pdoc else None)
        film = getattr(interface, "film_indices", None)
        sub = getattr(interface, "substrate_indices", None)
        if pdoc is None:
            return describe(interface, interface_id, recipe_name, film=film or None, sub=sub or None,
                            settings=self.settings())
        doc = describe(interface, interface_id, recipe_name, engine=pdoc.engine, source="prepared",
                       film=film or None, sub=sub or None, settings=self.settings())
        return doc.model_copy(update={"prepared_key": pdoc.doc_key})
