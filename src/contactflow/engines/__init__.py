"""Engine layer: one place turns an engine spec into an ASE calculator.

Specs: ``chgnet``, ``mace:<model file>``, each optionally ``+d3`` (DFT-D3(BJ) dispersion);
``reaxff:<ffield>`` (LAMMPS); ``cp2k[:<preset>]`` (DFT, PBE+D3(BJ)).

SevenNet is not offered: its pretrained checkpoints ship in the ``sevenn`` package, but sevenn 0.13
needs e3nn ≥ 0.5 while mace-torch 0.3.16 pins e3nn == 0.4.4, so the two cannot share an environment;
the sevenn release pip resolves beside mace-torch (0.10.x) has a checkpoint that does not load under
``torch.load(weights_only=True)`` (see shared/MACHINE-NOTES.md). MACE stays first-class.
"""

from contactflow.engines.calculators import (
    VALID_SPECS_HELP,
    EngineInfo,
    engine_info,
    get_calculator,
    parse_spec,
    resolve_device,
)
from contactflow.engines.checks import (
    CalculationFailedError,
    UnsupportedElementsError,
    check_elements,
    supported_elements,
)

__all__ = [
    "CalculationFailedError",
    "UnsupportedElementsError",
    "check_elements",
    "supported_elements",
    "VALID_SPECS_HELP",
    "EngineInfo",
    "engine_info",
    "get_calculator",
    "parse_spec",
    "resolve_device",
]
