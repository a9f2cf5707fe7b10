"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive, a customer
buys as a Poisson process (rate ~ Gamma(r, α)); after each purchase they drop out with probability p
(p ~ Beta(a, b)). Inputs per customer: ``x`` repeat purchases, ``t_x`` time of the last purchase and
``T`` age, both measured from the first purchase, in one time unit (the platform uses days)."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from projections.predictive import alive
from projections.predictive.optimise import FitError, compressed, fit_positive


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float


def log_likelihood(params: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood (the paper's equation 6)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    still = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full_like(still, -np.inf)
    dropped[repeat] = np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    return common + np.logaddexp(still, dropped)


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:
    """Maximum-likelihood parameters over the whole customer base."""
    return fit_by(log_likelihood, x, t_x, T, "BG/NBD")


def fit_by(log_likelihood: Callable[[BgNbd, np.ndarray, np.ndarray, np.ndarray], np.ndarray], x: np.ndarray, t_x: np.ndarray, T: np.ndarray, name: str) -> BgNbd:
    """The four parameters that maximise ``log_likelihood`` (BG/NBD's, or a variant's such as
    MBG/NBD's) summed over the customer base."""
    if len(x) < 2 or not np.any(x > 0):
        raise FitError(f"{name} needs at least two customers and one repeat purchase")
    (ux, ut, uT), weight = compressed(x, t_x, T)
    total = weight.sum()

    def negative(p: np.ndarray) -> float:
        return -float(np.dot(weight, log_likelihood(BgNbd(*p), ux, ut, uT))) / total

    scale = float(np.mean(T)) or 1.0
    return BgNbd(*(float(v) for v in fit_positive(negative, np.array([1.0, scale, 1.0, 1.0]))))


def p_alive(params: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Probability the customer has not dropped out by ``T`` (1 for customers with no repeat purchase)."""
    return alive.bgnbd(params.r, params.alpha, params.a, params.b, x, t_x, T)


def expected_purchases(params: BgNbd, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Expected purchases in the next ``t`` time units given the history (equation 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if t <= 0:
        return np.zeros_like(np.asarray(T, dtype=float))
    ratio = (alpha + T) / (alpha + T + t)
    z = t / (alpha + T + t)
    growth = (a + b + x - 1) / (a - 1) * (1 - ratio ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    return growth * p_alive(params, x, t_x, T)


def population_expected_purchases(params: BgNbd, t: float) -> float:
    """Expected purchases of a new customer in ``t`` time units (equation 7): the model's own check."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
