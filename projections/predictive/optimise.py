"""Maximum likelihood over positive parameters, shared by the BG/NBD and Gamma-Gamma fits."""

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize


class FitError(ValueError):
    """The data cannot identify the model (too few customers or repeat purchases)."""


def fit_positive(negative_log_likelihood: Callable[[np.ndarray], float], start: np.ndarray) -> np.ndarray:
    """Minimises over log-parameters (so every parameter stays positive) from a fixed start, so the
    same data always gives the same parameters (deterministic: no random restarts). L-BFGS-B took a
    third of Nelder-Mead's time on a million customers (BENCHMARKS.md, "Predicted value")."""
    result = minimize(lambda logs: negative_log_likelihood(np.exp(logs)), np.log(start), method="L-BFGS-B",
                      options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 1000})
    if not np.isfinite(result.fun):
        raise FitError("the likelihood is not finite at any parameters tried")
    return np.exp(result.x)


def compressed(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Identical rows counted once with their weight: on whole-day inputs a million customers have
    far fewer distinct (frequency, recency, age) rows, and the likelihood is a weighted sum."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return tuple(unique[:, i] for i in range(unique.shape[1])), counts.astype(float)
