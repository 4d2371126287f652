"""Engine layer: one place turns an engine spec into an ASE calculator.

Specs: ``chgnet``, ``mace:<model file>``, each optionally ``+d3`` (DFT-D3(BJ) dispersion).
"""

from contactflow.engines.calculators import (
    VALID_SPECS_HELP,
    EngineInfo,
    engine_info,
    get_calculator,
    parse_spec,
    resolve_device,
)

__all__ = [
    "VALID_SPECS_HELP",
    "EngineInfo",
    "engine_info",
    "get_calculator",
    "parse_spec",
    "resolve_device",
]
