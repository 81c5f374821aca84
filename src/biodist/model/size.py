"""Size heterogeneity: diameter classes and one size-to-passage function for every bed.

A cell of diameter ``d`` passes a capillary bed with probability

    P_pass(d; D) = Φ((ln(φ D) − ln d) / σ_b)

the sieve model of Maxwell, Shepherd & McMahan: a particle passes a bed when it
finds a pathway at least as wide as itself, and the pathways' widths are
log-normal around the bed's capillary diameter ``D`` with log-SD ``σ_b``
(species ``capillary_log_sd``). ``φ`` is the product's deformability — how much
wider than a capillary's diameter a cell can still squeeze through. It is not
configured: it is calibrated so that the population-average first-pass lung
pass fraction equals ``cell.lung_pass_fraction``. The same ``φ`` and ``σ_b``
then give every systemic bed's retention ``1 − P_pass(d; D_bed)``, so the
cells that passed the lungs — the small ones — are less likely to lodge later.

For log-normal diameters (log-SD ``σ_c``, median ``d_med``) the calibration has
a closed form, ``ln(φ D_lung) = ln d_med + sqrt(σ_c² + σ_b²) Φ⁻¹(p_pass)``,
which the tests use as an oracle.

Diameters are log-normal with the product's mean and standard deviation,
discretised on ``n`` Gauss–Hermite nodes in log-diameter; each node is a class
with its own linear chain. Expected counts are the weighted sum over classes
(an exact mixture for the discretised distribution), and the Monte Carlo draws
each cell's class with the node weights, so both share one discretisation.

References
----------
Maxwell LC, Shepherd AP, McMahan CA (1985). Microsphere passage through
intestinal circulation: via shunts or capillaries? Am J Physiol 248:H217-H224
(capillaries 7.38 ± 1.4 µm; a size-sieve explains sphere passage).
Schrepfer S et al. (2007) Transplant Proc 39:573-576 (microspheres: 4 µm pass
the mouse lung, 10 and 15 µm are trapped). Fischer UM et al. (2009) Stem Cells
Dev 18:683-692 (pulmonary passage rises steeply as cells get smaller).
"""

from __future__ import annotations

import math

import numpy as np

from ..config import LUNG, CellProduct, Species
from .circulation import Lodging

__all__ = [
    "DEFAULT_CLASSES",
    "calibrate_deformability",
    "diameter_classes",
    "pass_probability",
    "size_lodging",
]

#: Gauss–Hermite nodes used for the diameter distribution.
DEFAULT_CLASSES = 48


def diameter_classes(mean_um: float, sd_um: float, n: int = DEFAULT_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of a log-normal diameter distribution with the given mean and SD.

    Returns
    -------
    diameters_um, weights : ndarray, shape (n,) (one class when ``sd_um == 0``)
    """
    if sd_um == 0:
        return np.array([mean_um]), np.array([1.0])
    s2 = math.log1p((sd_um / mean_um) ** 2)
    mu = math.log(mean_um) - s2 / 2
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return np.exp(mu + math.sqrt(s2) * x), w / w.sum()


def pass_probability(d_um: np.ndarray | float, effective_um: float, log_sd: float) -> np.ndarray:
    """``Φ((ln effective − ln d) / log_sd)``: probability that a cell of diameter ``d`` passes a bed."""
    from scipy.special import ndtr  # scipy is imported only by the size model's users

    d = np.asarray(d_um, dtype=float)
    if effective_um == 0:
        return np.zeros_like(d)
    if math.isinf(effective_um):
        return np.ones_like(d)
    return ndtr((math.log(effective_um) - np.log(d)) / log_sd)


def calibrate_deformability(
    diameters_um: np.ndarray, weights: np.ndarray, lung_um: float, log_sd: float, lung_pass: float
) -> float:
    """Factor ``φ`` such that the population-average lung pass fraction equals ``lung_pass``."""
    from scipy.optimize import brentq

    if lung_pass <= 0.0:
        return 0.0
    if lung_pass >= 1.0:
        return math.inf

    def gap(log_phi: float) -> float:
        return float(weights @ pass_probability(diameters_um, math.exp(log_phi) * lung_um, log_sd)) - lung_pass

    lo, hi = -5.0, 5.0
    while gap(lo) > 0:
        lo -= 5.0
    while gap(hi) < 0:
        hi += 5.0
    return math.exp(brentq(gap, lo, hi, xtol=1e-14, rtol=1e-14))


def size_lodging(species: Species, cell: CellProduct, diameters_um: np.ndarray, weights: np.ndarray) -> list[Lodging]:
    """Per-class lodging probabilities from the size-to-passage function."""
    diameters, sd = species.capillary_diameters_um(), species.capillary_log_sd
    phi = calibrate_deformability(diameters_um, weights, diameters[LUNG], sd, cell.lung_pass_fraction)
    lung = pass_probability(diameters_um, phi * diameters[LUNG], sd)
    beds = {o: 1.0 - pass_probability(diameters_um, phi * diameters[o], sd) for o in species.systemic_organs}
    return [
        Lodging(float(lung[k]), {o: float(v[k]) for o, v in beds.items()}, size_resolved=True)
        for k in range(len(diameters_um))
    ]
