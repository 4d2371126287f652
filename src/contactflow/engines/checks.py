"""Which elements an engine can treat, checked before any compute; the failure an engine raises.

``check_elements(spec, symbols)`` is called by every job before it builds a calculator, so a ReaxFF
file without Si, or a CP2K basis set without an element, stops the job with a message that names the
missing elements instead of failing half-way through (or, worse, producing numbers).
"""

from collections.abc import Iterable

from ase.data import atomic_numbers, chemical_symbols

from contactflow.errors import ContactflowError, EngineSpecError

#: CHGNet 0.3.0 was trained on MPtrj: H (Z=1) to Pu (Z=94).
CHGNET_MAX_Z = 94
#: DFT-D3 (torch-dftd's reference C6 table) covers H (Z=1) to Pu (Z=94).
D3_MAX_Z = 94


class UnsupportedElementsError(EngineSpecError):
    """The structure contains elements the engine (force field, model or basis set) does not cover."""


class CalculationFailedError(ContactflowError):
    """An engine ran but did not produce a trustworthy result (SCF or charge equilibration not converged).

    Jobs catch it and store the result as ``state="failed"`` with this message as ``failure_reason``.
    """


def supported_elements(spec: str) -> frozenset[str] | None:
    """Element symbols an engine covers, or ``None`` when it covers every element.

    Parameters
    ----------
    spec
        Engine spec, e.g. ``"reaxff:Fe_O_C_H"``, ``"cp2k:pbe-d3"``, ``"chgnet+d3"``.

    Returns
    -------
    frozenset[str] | None
        Covered symbols (intersection of the base engine and its modifiers).
    """
    from contactflow.engines.calculators import parse_spec

    from contactflow.engines.registry import backend

    parsed = parse_spec(spec)
    z_range = lambda zmax: frozenset(chemical_symbols[1 : zmax + 1])  # noqa: E731
    out = backend(parsed.base).elements(parsed.arg)
    if "d3" in parsed.modifiers:
        out = out & z_range(D3_MAX_Z)
    return out


def check_elements(spec: str, symbols: Iterable[str]) -> None:
    """Raise before any compute if the engine lacks an element of the structure.

    Parameters
    ----------
    spec
        Engine spec.
    symbols
        Chemical symbols of the structure (any iterable, repeats allowed).

    Raises
    ------
    UnsupportedElementsError
        Naming the missing elements and the ones the engine covers.
    """
    have = supported_elements(spec)
    if have is None:
        return
    missing = sorted(set(symbols) - have, key=lambda s: atomic_numbers.get(s, 0))
    if missing:
        covered = ", ".join(sorted(have, key=lambda s: atomic_numbers[s]))
        raise UnsupportedElementsError(
            f"engine {spec!r} has no parameters for element(s) {', '.join(missing)} present in the "
            f"structure; it covers: {covered}"
        )
