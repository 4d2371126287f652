"""Load MACE ``.model`` files without running code from them; build tiny MACE models for tests.

A ``.model`` file written by mace-torch is ``torch.save(model)``: a whole pickled ``nn.Module``.
``torch.load(..., weights_only=False)`` would run whatever that pickle asks for, so it is read here
with ``weights_only=True`` and an allow-list of globals built from the class namespaces a MACE model
is made of: the ``nn.Module`` and tuple (irreps, instruction) classes of ``mace.modules`` and ``e3nn``,
the ``torch.nn`` module classes, and mace's gate functions. No builtins, no ``os``/``subprocess``.

Two things inside a MACE pickle are *code*, and allow-listing them as they are would make
``weights_only=True`` meaningless, so they get inert stand-ins while unpickling:

- ``torch.fx`` GraphModules (mace's symmetric contractions) pickle as Python source that
  ``torch.fx.graph_module.reduce_graph_module`` passes to ``exec``;
- e3nn ``CodeGenMixin`` modules (``o3.Linear``, tensor products, mace's ``SymmetricContraction``)
  carry TorchScript archives that their ``__setstate__`` passes to ``torch.jit.load``.

The skeleton that comes out holds every hyperparameter and tensor but cannot run. The model is then
rebuilt from those hyperparameters by mace-torch's own code (``extract_config_mace_model``, what
mace's ``extract_model`` uses) and the weights are copied in; every tensor in the file must find its
place in the rebuilt model. Nothing from the file is executed, and the result is a fresh, genuine
mace-torch model.
"""

import contextlib
import inspect
import os
import pickle
import sys
import threading
from collections.abc import Iterator
from typing import Any

import torch

from contactflow.errors import EngineSpecError

#: The user's own setting, read before any mace import can change it.
_USER_NO_WEIGHTS_ONLY = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")

MUST_BE = (
    "the file must be a MACE model saved by mace-torch (torch.save of a ScaleShiftMACE model, "
    "e.g. the .model file mace_run_train writes)"
)
#: Module namespaces whose ``nn.Module`` / tuple classes a MACE pickle may name.
_MODEL_NAMESPACES = ("mace.modules", "e3nn")
_FX_REDUCER = "torch.fx.graph_module.reduce_graph_module"
_UNPICKLER_MARKER = "WeightsUnpickler error:"
_TORCH_BOILERPLATE = (
    "Weights only load failed",
    "In PyTorch 2.6",
    "Please file an issue",
    "Please use",
    "(1)",
    "(2)",
    "Check the documentation",
)
_LOAD_LOCK = threading.Lock()  # safe_globals and the default dtype are process-wide state


def load_mace_model(path: str, device: str) -> torch.nn.Module:
    """Load a MACE model file with ``torch.load(weights_only=True)`` and an explicit allow-list.

    Parameters
    ----------
    path
        A ``.model`` file written by mace-torch (``torch.save`` of the whole model).
    device
        ``"cpu"`` or ``"cuda"`` (already resolved; see ``resolve_device``).

    Returns
    -------
    torch.nn.Module
        The model rebuilt by mace-torch from the file's hyperparameters and weights: float64,
        eval mode, on ``device``.

    Raises
    ------
    EngineSpecError
        If the file cannot be read, names a global outside the allow-list, or does not hold a
        MACE model whose weights fit its architecture.
    """
    # mace before e3nn: e3nn's import-time torch.load of its own constants only works after
    # mace/__init__ has set TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD (calls without weights_only=...).
    import_mace()
    from mace.tools.scripts_utils import extract_config_mace_model

    with _LOAD_LOCK:
        try:
            with torch.serialization.safe_globals(_allowed_globals()):
                obj = torch.load(path, map_location=device, weights_only=True)
        except Exception as exc:  # zip, pickle and allow-list errors all mean: not loadable
            raise EngineSpecError(f"cannot load MACE model {path}: {_one_line(exc)}; {MUST_BE}") from None
        cls = type(obj)
        if not (isinstance(obj, torch.nn.Module) and cls.__module__.startswith("mace.modules.")):
            shown = cls.__mro__[1] if cls in _INERT_CLASSES.values() else cls
            raise EngineSpecError(
                f"{path} holds a {shown.__module__}.{shown.__qualname__}, not a MACE model; {MUST_BE}"
            )
        try:
            with _default_dtype(torch.float64):
                config = extract_config_mace_model(obj)
                if "error" in config:
                    raise ValueError(config["error"])
                config["atomic_numbers"] = [int(z) for z in config["atomic_numbers"]]
                model = cls(**config)
            _load_weights(model, obj)
        except Exception as exc:
            raise EngineSpecError(
                f"cannot rebuild the {cls.__name__} in {path}: {_one_line(exc)}; {MUST_BE}"
            ) from None
    return model.to(device=device, dtype=torch.float64).eval()


def _load_weights(model: torch.nn.Module, skeleton: torch.nn.Module) -> None:
    """Copy every tensor of the skeleton into the rebuilt model; each must find its place.

    The only keys allowed to be missing from the skeleton are the constants (Wigner 3j buffers)
    of e3nn's generated TorchScript submodules, which were dropped unread and which the rebuilt
    model has just regenerated.
    """
    from e3nn.util.codegen import CodeGenMixin

    generated = tuple(
        f"{name}.{fname}." if name else f"{fname}."
        for name, module in model.named_modules()
        if isinstance(module, CodeGenMixin)
        for fname in getattr(module, "__codegen__", [])
    )
    result = model.load_state_dict(skeleton.state_dict(), strict=False)
    missing = [k for k in result.missing_keys if not k.startswith(generated)]
    if missing or result.unexpected_keys:
        raise ValueError(
            f"weights do not fit the architecture rebuilt from the file's hyperparameters "
            f"(missing: {missing[:5]}, unexpected: {result.unexpected_keys[:5]})"
        )


def make_tiny_mace_model(elements: list[str], r_max: float = 4.0, seed: int = 0) -> torch.nn.Module:
    """Build a small, randomly initialised ``ScaleShiftMACE`` for fast tests of the loading path.

    Parameters
    ----------
    elements
        Chemical symbols the model covers, e.g. ``["Si", "C"]``.
    r_max
        Cutoff radius in Å.
    seed
        Seed of the random initial weights (the global torch RNG is left as it was).

    Returns
    -------
    torch.nn.Module
        A float64 ``ScaleShiftMACE`` in eval mode (8x0e+8x1o hidden irreps, 2 interactions,
        max_ell 2, correlation 2, zero reference energies). Its energies are not physical.
    """
    import numpy as np
    from ase.data import atomic_numbers
    import_mace()  # before e3nn, see load_mace_model
    from e3nn import o3
    from mace import modules

    zs = sorted({atomic_numbers[e] for e in elements})
    block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
    with _LOAD_LOCK, _default_dtype(torch.float64), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = modules.ScaleShiftMACE(
            r_max=float(r_max),
            num_bessel=8,
            num_polynomial_cutoff=5,
            max_ell=2,
            interaction_cls=block,
            interaction_cls_first=block,
            num_interactions=2,
            num_elements=len(zs),
            hidden_irreps=o3.Irreps("8x0e+8x1o"),
            MLP_irreps=o3.Irreps("16x0e"),
            atomic_energies=np.zeros(len(zs)),
            avg_num_neighbors=8.0,
            atomic_numbers=zs,
            correlation=2,
            gate=torch.nn.functional.silu,
            radial_MLP=[16, 16, 16],
            atomic_inter_scale=1.0,
            atomic_inter_shift=0.0,
        )
    return model.double().eval()


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _one_line(exc: BaseException) -> str:
    """The informative part of an exception on one line (torch's weights-only errors span a page)."""
    text = str(exc)
    if "TorchScript" in text:
        return "it is a TorchScript archive (like *_compiled.model), not the pickled model"
    lines = []
    for line in text.splitlines():
        line = line.split(_UNPICKLER_MARKER, 1)[-1].strip()
        if line and not line.startswith(_TORCH_BOILERPLATE):
            lines.append(line.split(" Please use", 1)[0])
    text = " ".join(" ".join(lines).split()).rstrip(".") or type(exc).__name__
    if isinstance(exc, pickle.UnpicklingError):
        text = f"refused by torch.load(weights_only=True): {text}"
    return text if len(text) <= 300 else text[:297] + "..."


class _InertGraphModule(torch.nn.Module):
    """Stands in for a pickled ``torch.fx`` GraphModule; its pickled source code is never run."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("inert stand-in for a pickled torch.fx GraphModule; rebuild the model")


def _inert_reduce_graph_module(body: dict, import_block: str) -> torch.nn.Module:
    """Replacement for ``torch.fx.graph_module.reduce_graph_module`` that keeps tensors, not code."""
    gm = _InertGraphModule()
    if not isinstance(body, dict):
        return gm
    for name, p in (body.get("_parameters") or {}).items():
        if isinstance(p, torch.nn.Parameter):
            gm.register_parameter(name, p)
    for name, b in (body.get("_buffers") or {}).items():
        if isinstance(b, torch.Tensor):
            gm.register_buffer(name, b)
    for name, m in (body.get("_modules") or {}).items():
        if isinstance(m, torch.nn.Module):
            gm.add_module(name, m)
    return gm


def _inert_codegen_setstate(self: torch.nn.Module, state: dict) -> None:
    """``__setstate__`` for e3nn CodeGenMixin classes that drops the TorchScript archives."""
    state = dict(state)
    state.pop("__codegen__", None)
    torch.nn.Module.__setstate__(self, state)


_INERT_CLASSES: dict[type, type] = {}


def _inert_codegen_class(cls: type) -> type:
    """A subclass of an e3nn CodeGenMixin class whose unpickling loads no TorchScript."""
    if cls not in _INERT_CLASSES:
        _INERT_CLASSES[cls] = type(
            cls.__name__,
            (cls,),
            {
                "__setstate__": _inert_codegen_setstate,
                "__module__": __name__,
                "__qualname__": f"_Inert{cls.__name__}",
            },
        )
    return _INERT_CLASSES[cls]


def _namespace_classes(prefixes: tuple[str, ...]) -> Iterator[type]:
    for modname, module in list(sys.modules.items()):
        if module is None or not any(modname == p or modname.startswith(p + ".") for p in prefixes):
            continue
        for obj in list(vars(module).values()):
            if inspect.isclass(obj) and obj.__module__ == modname:
                yield obj


def import_mace() -> None:
    """Import mace (before e3nn), then undo mace's process-wide opt-out of safe loading.

    ``mace/__init__`` and ``mace.calculators`` set ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``, which makes every later
    ``torch.load`` without an explicit ``weights_only`` unrestricted. e3nn needs it only while it
    imports, so it is restored to its previous state once mace and e3nn are in.
    """
    # mace prints a notice about cuequivariance to stdout at import: it goes to stderr, so that
    # ``--format json`` output stays JSON
    with contextlib.redirect_stdout(sys.stderr):
        import mace.calculators  # noqa: F401  (sets it again at its own import)
        import mace.modules  # noqa: F401

    if _USER_NO_WEIGHTS_ONLY is None:
        os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    else:
        os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = _USER_NO_WEIGHTS_ONLY


def _allowed_globals() -> list[Any]:
    """The allow-list: classes a MACE pickle names, with inert stand-ins for pickled code."""
    import mace.modules
    from e3nn.util.codegen import CodeGenMixin
    from torch.fx._symbolic_trace import Tracer

    allowed: list[Any] = []
    for cls in _namespace_classes(_MODEL_NAMESPACES):
        if issubclass(cls, CodeGenMixin) and issubclass(cls, torch.nn.Module):
            allowed.append((_inert_codegen_class(cls), f"{cls.__module__}.{cls.__qualname__}"))
        elif issubclass(cls, torch.nn.Module | tuple):  # modules; irreps and instruction tuples
            allowed.append(cls)
    allowed += [c for c in _namespace_classes(("torch.nn.modules",)) if issubclass(c, torch.nn.Module)]
    allowed += [f for f in mace.modules.gate_dict.values() if f is not None]
    allowed += [Tracer, (_inert_reduce_graph_module, _FX_REDUCER)]
    return allowed
