"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999): a
customer's purchase amounts vary around their own mean, which varies across customers. Fitted on
customers with repeat purchases: ``x`` repeat purchases and ``m`` their average amount. Assumes
spend is independent of purchase frequency (check the correlation before trusting it)."""

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from projections.predictive.optimise import FitError, compressed, fit_positive


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float


def log_likelihood(params: GammaGamma, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, g = params.p, params.q, params.gamma
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(g + x * m))


def fit(x: np.ndarray, m: np.ndarray) -> GammaGamma:
    """Maximum-likelihood parameters over the customers with a repeat purchase and a positive average."""
    usable = (x > 0) & (m > 0)
    if usable.sum() < 2:
        raise FitError("Gamma-Gamma needs at least two customers with repeat purchases of a positive amount")
    (xs, ms), weight = compressed(x[usable].astype(float), m[usable].astype(float))  # sorted: the customers' order cannot change a sum
    total = weight.sum()

    def negative(params: np.ndarray) -> float:
        return -float(np.dot(weight, log_likelihood(GammaGamma(*params), xs, ms))) / total

    fitted = GammaGamma(*(float(v) for v in fit_positive(negative, np.array([1.0, 2.0, float(np.dot(weight, ms) / total)]))))
    if fitted.q <= 1:  # the population's mean spend would be infinite
        raise FitError(f"Gamma-Gamma: spend too dispersed to predict (q = {fitted.q:.3g} ≤ 1)")
    return fitted


def expected_average(params: GammaGamma, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Expected amount of a future purchase: a weighted mean of the population's and the customer's own
    average, the own one weighing more the more repeat purchases back it (equation 5)."""
    p, q, g = params.p, params.q, params.gamma
    population = g * p / (q - 1)
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * population + weight * np.where(x > 0, m, 0.0)
