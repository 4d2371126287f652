"""Trajectory analysis: unwrapping, MSD → D (Einstein), Arrhenius fits, energy drift, pull-off curves.

Units: positions Å, times ps, energies eV, forces eV/Å, tractions GPa, fracture energies J/m².
"""

import math

import numpy as np

#: Boltzmann constant, eV/K
K_B_EV = 8.617333262e-5
#: 1 Å²/ps in m²/s
A2_PER_PS_TO_M2_PER_S = 1e-8
#: 1 eV/Å³ in GPa
EV_PER_A3_TO_GPA = 160.21766208
#: 1 GPa·Å in J/m² (1e9 Pa × 1e-10 m)
GPA_A_TO_J_PER_M2 = 0.1


def unwrap_positions(prev_unwrapped: np.ndarray, new_positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Continue an unwrapped trajectory: add the minimum-image displacement from the previous frame.

    Valid while no atom moves more than half a cell vector between the two frames.
    """
    cell = np.asarray(cell, float)
    frac = (np.asarray(new_positions, float) - prev_unwrapped) @ np.linalg.inv(cell)
    frac -= np.round(frac)
    return prev_unwrapped + frac @ cell


def msd_A2(positions: np.ndarray, indices=None, max_lag: int | None = None) -> np.ndarray:
    """Mean-squared displacement vs lag (in frames), averaged over atoms and all time origins.

    Parameters
    ----------
    positions
        Unwrapped positions, shape ``(n_frames, n_atoms, 3)``, Å.
    indices
        Atoms to average over (default all).
    max_lag
        Largest lag (default ``n_frames // 2``: lags beyond half the run have few origins).

    Returns
    -------
    numpy.ndarray
        ``msd[k]`` for lags ``k = 0 … max_lag``, Å².
    """
    pos = np.asarray(positions, float)
    if indices is not None:
        pos = pos[:, np.asarray(indices, int)]
    n = len(pos)
    max_lag = n // 2 if max_lag is None else min(max_lag, n - 1)
    out = np.zeros(max_lag + 1)
    for k in range(1, max_lag + 1):
        d = pos[k:] - pos[:-k]
        out[k] = np.mean(np.sum(d * d, axis=-1))
    return out


def diffusivity_from_msd(lag_times_ps: np.ndarray, msd: np.ndarray, dim: int = 3,
                         fit_from_fraction: float = 0.2) -> tuple[float, float]:
    """Einstein relation MSD = 2·dim·D·t: D and its standard error from a linear fit, Å²/ps.

    The first ``fit_from_fraction`` of the lags (ballistic regime) is left out of the fit; the line has
    a free intercept (vibrational plateau).
    """
    t = np.asarray(lag_times_ps, float)
    y = np.asarray(msd, float)
    start = max(1, int(len(t) * fit_from_fraction))
    t, y = t[start:], y[start:]
    if len(t) < 3:
        raise ValueError(f"need at least 3 MSD points to fit D, got {len(t)} (run longer or sample more often)")
    (slope, _), cov = np.polyfit(t, y, 1, cov=True)
    return float(slope / (2 * dim)), float(math.sqrt(max(cov[0, 0], 0.0)) / (2 * dim))


def arrhenius_fit(temperatures_K, diffusivities) -> dict:
    """Fit ln D = ln D0 − E_a/(k_B T).

    Returns
    -------
    dict
        ``activation_energy_eV``, ``activation_energy_stderr_eV`` (from the fit's covariance; ``None``
        with only two temperatures), ``D0`` (same unit as the input D), ``n_points``.
    """
    T = np.asarray(temperatures_K, float)
    D = np.asarray(diffusivities, float)
    if len(T) < 2 or len(np.unique(T)) < 2:
        raise ValueError("an Arrhenius fit needs D at two or more distinct temperatures")
    if np.any(D <= 0):
        raise ValueError(f"an Arrhenius fit needs positive D values, got {D.tolist()}")
    x, y = 1.0 / T, np.log(D)
    if len(T) > 2:
        (slope, icpt), cov = np.polyfit(x, y, 1, cov=True)
        err = float(math.sqrt(max(cov[0, 0], 0.0)) * K_B_EV)
    else:
        slope, icpt = np.polyfit(x, y, 1)
        err = None
    return {"activation_energy_eV": float(-slope * K_B_EV), "activation_energy_stderr_eV": err,
            "D0": float(math.exp(icpt)), "n_points": int(len(T))}


def energy_drift_eV_per_atom_per_ps(times_ps, total_energy_eV, n_atoms: int) -> float:
    """Slope of a linear fit of the total energy vs time, per atom, eV/atom/ps (NVE conservation)."""
    t = np.asarray(times_ps, float)
    e = np.asarray(total_energy_eV, float)
    if len(t) < 2 or t[-1] == t[0]:
        return 0.0
    return float(np.polyfit(t, e, 1)[0] / n_atoms)


def traction_GPa(force_z_eV_per_A, area_A2: float) -> np.ndarray:
    """Traction from the z force the film exerts on the pulled group (pointing back towards the
    substrate, i.e. negative when the interface resists opening): σ = −F_z / A, GPa."""
    return -np.asarray(force_z_eV_per_A, float) / float(area_A2) * EV_PER_A3_TO_GPA


def fracture_energy_J_per_m2(opening_A, traction) -> float:
    """Work per area to open the interface: ∫ σ dδ (trapezoid rule), σ in GPa, δ in Å → J/m²."""
    d = np.asarray(opening_A, float)
    s = np.asarray(traction, float)
    return float(np.sum(0.5 * (s[1:] + s[:-1]) * np.diff(d)) * GPA_A_TO_J_PER_M2)


def moving_average(x, window: int) -> np.ndarray:
    """Centred moving average (window shrinks at the ends); ``window`` ≤ 1 returns a copy."""
    x = np.asarray(x, float)
    if window <= 1 or len(x) < 2:
        return x.copy()
    k = np.ones(min(window, len(x)))
    return np.convolve(x, k, "same") / np.convolve(np.ones_like(x), k, "same")
