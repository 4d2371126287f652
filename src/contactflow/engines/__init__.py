"""Engine layer: one place turns an engine spec into an ASE calculator.

Specs: ``chgnet``, ``mace:<model file>``, each optionally ``+d3`` (DFT-D3(BJ) dispersion);
``reaxff:<ffield>`` (LAMMPS); ``cp2k[:<preset>]`` (DFT, PBE+D3(BJ)).
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
