"""Architecture contract: data flows one way (DESIGN.md's package map), checked on every import in src/.

Packages sit in layers, highest first; a module may import from its own package and from any lower
layer, never from a higher one, and packages that share a layer are independent of each other.
Imports inside functions count (a lazy import is still a dependency). This is import-linter's
``layers`` contract written as a test, because import-linter is not a dependency of the project and
the check needs nothing but ``ast``.
"""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "contactflow"

#: highest first; a tuple is one layer of mutually independent packages
LAYERS: list[tuple[str, ...]] = [
    ("cli",),
    ("api", "web"),
    ("validation",),
    ("screening",),
    ("dispatch", "continuum"),
    ("store",),
    ("flows",),
    ("jobs",),
    ("mlp", "analysis"),
    ("recipes",),
    ("structures", "engines"),
    ("schemas",),
    ("yamlsafe", "paths"),
    ("errors",),
]

#: known exceptions, each with its reason: the training Makers (labels, models, AL rounds) still
#: write each document as it is made so that a killed labelling campaign resumes; every interface
#: task is pure. (importer module, imported package)
ALLOWED = {
    ("contactflow.jobs.base", "store"),  # persist(), used only by the three training Makers below
    ("contactflow.jobs.label", "store"),
    ("contactflow.jobs.train", "store"),
    ("contactflow.jobs.active_learning", "store"),
}


def layer_of(package: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if package in layer:
            return i
    return None


def imports_of(path: Path) -> set[str]:
    """Top-level contactflow packages a module imports (any nesting level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for n in names:
            parts = n.split(".")
            if parts[0] == "contactflow" and len(parts) > 1:
                out.add(parts[1])
    return out


def module_graph() -> dict[str, set[str]]:
    graph = {}
    for py in SRC.rglob("*.py"):
        rel = py.relative_to(SRC.parent).with_suffix("")
        mod = ".".join(rel.parts).removesuffix(".__init__")
        graph[mod] = imports_of(py)
    return graph


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Backward or sideways imports: ``importer -> package`` lines."""
    bad = []
    for mod, imported in sorted(graph.items()):
        parts = mod.split(".")
        if len(parts) < 2:
            continue  # contactflow/__init__.py: the package face
        own = parts[1]
        lo = layer_of(own)
        if lo is None:
            bad.append(f"{mod}: package {own!r} is in no layer of the contract")
            continue
        for pkg in imported - {own}:
            li = layer_of(pkg)
            if li is None or (mod, pkg) in ALLOWED:
                continue
            if li < lo:
                bad.append(f"{mod} -> {pkg} (imports a higher layer)")
            elif li == lo:
                bad.append(f"{mod} -> {pkg} (packages of one layer are independent)")
    return bad


def test_every_package_is_in_a_layer():
    pkgs = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    pkgs |= {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    assert {p for p in pkgs if layer_of(p) is None} == set()


def test_no_backward_imports():
    assert violations(module_graph()) == []


def test_the_contract_fails_on_a_backward_import():
    graph = module_graph()
    graph["contactflow.structures.bulk"] = graph["contactflow.structures.bulk"] | {"engines"}
    graph["contactflow.mlp.sampling"] = graph["contactflow.mlp.sampling"] | {"jobs"}
    bad = violations(graph)
    assert "contactflow.structures.bulk -> engines (packages of one layer are independent)" in bad
    assert "contactflow.mlp.sampling -> jobs (imports a higher layer)" in bad
