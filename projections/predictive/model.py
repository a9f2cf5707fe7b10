"""A fitted model (BG/NBD or MBG/NBD + Gamma-Gamma + the settings of its predictions), its version, and the
predictions it gives for a customer base: the one function the fit, a recomputation from a stored
model, a segment forecast and the benchmark share."""

import hashlib
from dataclasses import dataclass

import numpy as np

from projections.predictive import bgnbd, gamma_gamma, mbgnbd
from projections.predictive.bgnbd import BgNbd
from projections.predictive.clv import discounted_purchases
from projections.predictive.gamma_gamma import GammaGamma

PURCHASE_MODELS = {"bgnbd": bgnbd, "mbgnbd": mbgnbd}  # the same parameters, inputs and functions
SIGNIFICANT = 6  # digits of a fitted parameter kept (``fit``): the optimiser's own precision is about 1e-6


@dataclass(frozen=True)
class Facts:
    """Per customer, in days: ``x`` repeat purchase days, ``t_x`` first → last purchase day, ``T``
    first purchase day → as-of day, ``m`` mean amount per repeat purchase day (0 without one)."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    m: np.ndarray


@dataclass(frozen=True)
class Model:
    as_of_ms: int
    purchase_model: str  # a key of PURCHASE_MODELS
    purchases: BgNbd
    spend: GammaGamma
    horizon_days: int
    annual_discount_rate: float
    gross_margin: float

    @property
    def version(self) -> str:
        """Same as-of, parameters and settings → same version."""
        text = "|".join([str(self.as_of_ms), self.purchase_model, *(f"{v:.12g}" for v in (*vars(self.purchases).values(), *vars(self.spend).values())),
                         str(self.horizon_days), f"{self.annual_discount_rate:.12g}", f"{self.gross_margin:.12g}"])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def fit(facts: Facts, as_of_ms: int, horizon_days: int, annual_discount_rate: float, gross_margin: float, purchase_model: str = "bgnbd") -> Model:
    """Parameters kept to ``SIGNIFICANT`` digits: the fit's last digits are float noise (summation
    order, another machine's libm), and the stored, versioned parameters are exactly those predicting."""
    purchases, spend = PURCHASE_MODELS[purchase_model].fit(facts.x, facts.t_x, facts.T), gamma_gamma.fit(facts.x, facts.m)
    return Model(as_of_ms, purchase_model, BgNbd(*map(_kept, vars(purchases).values())), GammaGamma(*map(_kept, vars(spend).values())),
                 horizon_days, annual_discount_rate, gross_margin)


def _kept(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT}g}")


def predict(model: Model, facts: Facts, horizon_days: int | None = None) -> dict[str, np.ndarray]:
    """P(alive), expected purchases and revenue over the horizon (the model's unless given), and the
    predicted CLV (always over the model's horizon, discounted, times the margin)."""
    horizon = model.horizon_days if horizon_days is None else horizon_days
    x, t_x, T = facts.x, facts.t_x, facts.T
    counts = PURCHASE_MODELS[model.purchase_model]

    def within(days: float) -> np.ndarray:
        return counts.expected_purchases(model.purchases, days, x, t_x, T)

    per_purchase = gamma_gamma.expected_average(model.spend, x, facts.m)
    purchases = within(horizon)
    discounted = discounted_purchases(within, model.horizon_days, model.annual_discount_rate)
    return {
        "p_alive": counts.p_alive(model.purchases, x, t_x, T),
        "expected_purchases": purchases,
        "expected_revenue": purchases * per_purchase,
        "predicted_clv": model.gross_margin * per_purchase * discounted,
    }
