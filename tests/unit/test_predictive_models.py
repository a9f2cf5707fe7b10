"""The BG/NBD and Gamma-Gamma likelihoods and fits against the published CDNOW figures (Fader, Hardie
& Lee 2005), on the CDNOW summaries the `lifetimes` wheel ships (read as files, not imported), and
the predictions' algebra."""

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from projections.predictive import bgnbd, gamma_gamma, mbgnbd
from projections.predictive.bgnbd import BgNbd
from projections.predictive.clv import discounted_purchases
from projections.predictive.gamma_gamma import GammaGamma
from projections.predictive.model import Facts, Model, fit, predict
from projections.predictive.optimise import FitError

PUBLISHED = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)  # weeks
PUBLISHED_SPEND = GammaGamma(p=6.25, q=3.74, gamma=15.44)


def cdnow(name: str) -> dict[str, np.ndarray]:
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None, "the CDNOW summaries come with the `lifetimes` wheel: pip install -e '.[test]'"
    with (Path(next(iter(spec.submodule_search_locations))) / "datasets" / name).open() as handle:
        rows = list(csv.DictReader(handle))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def test_bgnbd_fit_finds_the_published_cdnow_parameters():
    s = cdnow("cdnow_customers_summary.csv")
    found = bgnbd.fit(s["frequency"], s["recency"], s["T"])
    for name, published in vars(PUBLISHED).items():
        assert getattr(found, name) == pytest.approx(published, rel=0.01), name
    # the paper's log-likelihood at its estimates: -9582.4
    assert bgnbd.log_likelihood(found, s["frequency"], s["recency"], s["T"]).sum() == pytest.approx(-9582.4, abs=0.5)


def test_gamma_gamma_fit_finds_the_published_cdnow_parameters():
    s = cdnow("cdnow_customers_summary_with_transactions.csv")
    found = gamma_gamma.fit(s["x"], s["zbar"])
    for name, published in vars(PUBLISHED_SPEND).items():
        assert getattr(found, name) == pytest.approx(published, rel=0.01), name


def test_mbgnbd_fit_finds_lifetimes_parameters_and_one_time_buyers_may_have_left():
    """lifetimes' ModifiedBetaGeoFitter on the same summary: r 0.5248, alpha 6.183, a 0.8914, b 1.614;
    for its first customers 1.2627, 0.1888, 0.1540 purchases in 39 weeks, P(alive) 0.7061, 0.1708, 0.3897."""
    s = cdnow("cdnow_customers_summary.csv")
    found = mbgnbd.fit(s["frequency"], s["recency"], s["T"])
    assert [found.r, found.alpha, found.a, found.b] == pytest.approx([0.5248, 6.183, 0.8914, 1.614], rel=0.001)
    first = (s["frequency"][:3], s["recency"][:3], s["T"][:3])
    assert mbgnbd.expected_purchases(found, 39, *first) == pytest.approx([1.2627, 0.1888, 0.1540], abs=0.0005)
    assert mbgnbd.p_alive(found, *first) == pytest.approx([0.7061, 0.1708, 0.3897], abs=0.0005)
    assert mbgnbd.p_alive(found, np.array([0.0]), np.array([0.0]), np.array([30.0]))[0] < 1


def test_the_papers_worked_customer():
    """x = 2, t_x = 30.43, T = 38.86 weeks: 1.226 purchases expected in the next 39 weeks (the paper's example)."""
    one = (np.array([2.0]), np.array([30.43]), np.array([38.86]))
    params = BgNbd(0.242593, 4.413532, 0.792886, 2.425752)
    assert bgnbd.expected_purchases(params, 39, *one)[0] == pytest.approx(1.226, abs=0.001)
    assert 0 < bgnbd.p_alive(params, *one)[0] < 1


def test_without_a_repeat_purchase_a_customer_cannot_have_dropped_out():
    params = PUBLISHED
    x, t_x, T = np.array([0.0, 3.0]), np.array([0.0, 1.0]), np.array([30.0, 30.0])
    alive = bgnbd.p_alive(params, x, t_x, T)
    assert alive[0] == 1.0 and alive[1] < 0.2  # three purchases early, then a long silence


def test_expected_spend_shrinks_towards_the_population_mean():
    params = PUBLISHED_SPEND
    population = params.gamma * params.p / (params.q - 1)
    spend = gamma_gamma.expected_average(params, np.array([0.0, 1.0, 50.0]), np.array([0.0, 100.0, 100.0]))
    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < spend[2] < 100


def test_discounted_clv_without_discounting_is_expected_purchases():
    x, t_x, T = np.array([0.0, 2.0, 5.0]), np.array([0.0, 10.0, 200.0]), np.array([30.0, 100.0, 210.0])
    params = BgNbd(0.243, 4.414 * 7, 0.793, 2.426)
    def within(days: float) -> np.ndarray:
        return bgnbd.expected_purchases(params, days, x, t_x, T)

    undiscounted = discounted_purchases(within, 365, 0.0)
    assert undiscounted == pytest.approx(within(365))
    assert np.all(discounted_purchases(within, 365, 0.2) < undiscounted)


def test_predictions_and_version_are_reproducible():
    s = cdnow("cdnow_customers_summary_with_transactions.csv")
    facts = Facts(s["x"], s["t_x"] * 7, s["T"] * 7, s["zbar"])
    first, again = fit(facts, 875_663_999_999, 273, 0.1, 0.3), fit(facts, 875_663_999_999, 273, 0.1, 0.3)
    assert first.version == again.version
    shuffled = np.random.default_rng(1).permutation(len(facts.x))  # customers come in another order after a rebuild
    assert fit(Facts(*(v[shuffled] for v in vars(facts).values())), 875_663_999_999, 273, 0.1, 0.3).version == first.version
    assert all(np.array_equal(a, b) for a, b in zip(predict(first, facts).values(), predict(again, facts).values(), strict=True))
    assert Model(**{**vars(first), "gross_margin": 0.4}).version != first.version
    assert fit(facts, 875_663_999_999, 273, 0.1, 0.3, "mbgnbd").version != first.version
    revenue = predict(first, facts)
    assert revenue["predicted_clv"] == pytest.approx(0.3 * revenue["expected_revenue"], rel=0.1)  # 10% a year, over 9 months


def test_a_base_without_repeat_purchases_cannot_be_fitted():
    with pytest.raises(FitError, match="repeat purchase"):
        bgnbd.fit(np.zeros(10), np.zeros(10), np.full(10, 5.0))
    with pytest.raises(FitError, match="repeat purchases"):
        gamma_gamma.fit(np.zeros(10), np.zeros(10))
