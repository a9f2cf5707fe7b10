"""Predicted value on real purchase histories, and the fit's speed on a million customers.

    python -m benchmarks.predictive [--customers 1000000] [--skip-cdnow]

CDNOW (23,570 customers, 69,659 purchases, 1997-98; the dataset the `lifetimes` wheel ships, a test
and benchmark dependency only) through the platform: every purchase ingested as an ``order_placed``
event (``earliest_imported_event_time`` lets 1997 in), the projections run, then ``cdp value fit`` on
purchases up to 1997-09-30 with a 273-day horizon: the 39 weeks the Fader, Hardie & Lee (2005)
protocol holds out. Prints predicted vs actual holdout purchases, the Spearman correlation of each
ranking with holdout spend, the top-decile capture, and P(alive) calibration by decile, for the
predictions and for two baselines: the value projection's historic CLV and past spend.

Then the fit alone (``projections.predictive.model``) on a synthetic base drawn from the BG/NBD
process with CDNOW's parameters: seconds to fit and to predict for ``--customers`` customers.
"""

import argparse
import importlib.util
import io
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
from scipy.stats import spearmanr

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.ingest import IngestService
from cdp.services.value import ValueService
from projections.predictive import model as models
from projections.predictive.model import Facts
from projections.tables import customer_predictions, events
from projections.value import ValueRules, value

CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)
HORIZON_DAYS = (HOLDOUT_END - CALIBRATION_END).days  # 273: 39 weeks
DAY_MS = 86_400_000


def cdnow_purchases() -> list[tuple[str, date, float]]:
    """(customer, day, amount) of every purchase in CDNOW_master.txt, read from the installed
    `lifetimes` package's files (the package itself is not imported: only its data is used)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("CDNOW comes with the `lifetimes` wheel: pip install -e '.[test]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_master.txt"
    rows = []
    for line in path.read_text().splitlines()[1:]:  # a header line first
        customer, day, _, amount = line.split()
        rows.append((customer, datetime.strptime(day, "%Y%m%d").date(), float(amount)))
    return rows


def envelopes(purchases: list[tuple[str, date, float]]) -> bytes:
    lines = []
    for n, (customer, day, amount) in enumerate(purchases):
        lines.append(orjson.dumps({
            "message_id": f"cdnow-{n}", "event_type": "order_placed", "source_kind": "sales", "source_name": "cdnow",
            "occurred_at": f"{day.isoformat()}T12:00:00Z", "identifiers": {"user_id": f"cdnow-{customer}"},
            "properties": {"order_id": f"{customer}-{n}", "amount": amount, "currency": "USD"},
        }))
    return b"\n".join(lines)


def through_the_platform(purchases: list[tuple[str, date, float]], data_dir: Path) -> dict[str, dict]:
    """Ingest → projections → fit as of the calibration end; each CDNOW customer's stored prediction."""
    settings = load_settings(data_dir=data_dir, earliest_imported_event_time=datetime(1997, 1, 1, tzinfo=UTC),
                             value={"predictions": {"horizon_days": HORIZON_DAYS}})
    with Platform(settings) as platform:
        started = time.perf_counter()
        report = IngestService(platform, operator()).ingest_lines(io.BytesIO(envelopes(purchases)), "cdnow")
        platform.runner.run()
        print(f"ingest + projections: {report.stored:,} events stored, {len(report.rejected)} refused, {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        model = ValueService(platform, operator()).fit(datetime.combine(CALIBRATION_END, datetime.max.time(), UTC))
        print(f"cdp value fit: {time.perf_counter() - started:.2f} s; model {model['model_version']}: "
              + ", ".join(f"{k} {model[k]:.4g}" for k in ("r", "alpha", "a", "b", "p", "q", "gamma"))
              + f" (alpha in days; ÷7 = {model['alpha'] / 7:.3f} weeks)")
        db = platform.warehouse.database
        owners = platform.warehouse.query(
            f"SELECT customer_id, any(splitByChar('-', JSONExtractString(properties, 'order_id'))[1]) AS cdnow FROM `{db}`.`{events.TABLE.name}` GROUP BY customer_id")
        cdnow_of = {r["customer_id"]: r["cdnow"] for r in owners}
        rows = platform.warehouse.query(f"SELECT * FROM `{db}`.`{customer_predictions.TABLE.name}` FINAL WHERE NOT is_deleted")
        return {cdnow_of[r["customer_id"]]: r for r in rows}


def measured(purchases: list[tuple[str, date, float]]) -> tuple[dict, dict, dict]:
    """Per CDNOW customer: holdout purchase days and spend, calibration spend, and the value
    projection's historic CLV as of the calibration end (its pure function, on calibration purchases)."""
    days: dict[str, set] = defaultdict(set)
    spend: dict[str, float] = defaultdict(float)
    past: dict[str, list] = defaultdict(list)
    for customer, day, amount in purchases:
        if day > CALIBRATION_END:
            days[customer].add(day)
            spend[customer] += amount
        else:
            ms = int(datetime.combine(day, datetime.min.time(), UTC).timestamp() * 1000) + DAY_MS // 2
            past[customer].append([ms, 0, amount])
    as_of = int(datetime.combine(CALIBRATION_END + timedelta(days=1), datetime.min.time(), UTC).timestamp() * 1000) - 1
    rules = ValueRules()
    heuristic = {c: value(sorted(p), 0.0, 0, as_of, rules).clv for c, p in past.items()}
    past_spend = {c: sum(a for _, _, a in p) for c, p in past.items()}
    return {c: len(d) for c, d in days.items()}, spend, {"heuristic": heuristic, "past": past_spend}


def modified(predicted: dict[str, dict], customers: list[str]) -> dict[str, np.ndarray]:
    """MBG/NBD + Gamma-Gamma (``value.predictions.purchase_model = "mbgnbd"``) on the inputs the
    platform stored: a customer may drop out after the first purchase (P(alive) < 1 without a repeat)."""
    facts = Facts(*(np.array([predicted[c][k] for c in customers], dtype=float) for k in ("frequency", "recency_days", "age_days", "average_order")))
    fitted = models.fit(facts, 0, HORIZON_DAYS, 0.10, 1.0, "mbgnbd")
    found = models.predict(fitted, facts)
    p = fitted.purchases
    print(f"MBG/NBD: r {p.r:.4g}, alpha {p.alpha / 7:.4g} weeks, a {p.a:.4g}, b {p.b:.4g}; holdout purchase days predicted {found['expected_purchases'].sum():,.0f}")
    return found


def calibration(title: str, p_alive: np.ndarray, bought: np.ndarray, expected_n: np.ndarray, actual_n: np.ndarray) -> None:
    print(f"\n{title} (base rate of a holdout purchase {bought.mean() * 100:.1f}%)")
    print(f"{'decile':>6} {'P(alive) mean':>14} {'bought in holdout':>18} {'E[purchases]':>13} {'actual':>7}")
    order = np.argsort(p_alive, kind="stable")
    for k, part in enumerate(np.array_split(order, 10), start=1):
        print(f"{k:6} {p_alive[part].mean():14.3f} {bought[part].mean():18.3f} {expected_n[part].mean():13.3f} {actual_n[part].mean():7.3f}")


def top_decile_capture(score: np.ndarray, outcome: np.ndarray) -> float:
    top = np.argsort(-score, kind="stable")[: len(score) // 10]
    return float(outcome[top].sum() / outcome.sum())


def report_cdnow(predicted: dict[str, dict], holdout_days: dict, holdout_spend: dict, baselines: dict) -> None:
    customers = sorted(predicted)
    actual_n = np.array([holdout_days.get(c, 0) for c in customers], dtype=float)
    actual_spend = np.array([holdout_spend.get(c, 0.0) for c in customers])
    expected_n = np.array([predicted[c]["expected_purchases"] for c in customers])
    print(f"\ncustomers: {len(customers):,}; holdout purchase days: actual {actual_n.sum():,.0f}, predicted {expected_n.sum():,.0f} "
          f"({(expected_n.sum() / actual_n.sum() - 1) * 100:+.1f}%)")
    print(f"holdout spend: actual {actual_spend.sum():,.0f}, predicted revenue {sum(predicted[c]['expected_revenue'] for c in customers):,.0f}")
    alternative = modified(predicted, customers)
    rankings = {
        "BG/NBD + Gamma-Gamma expected revenue": np.array([predicted[c]["expected_revenue"] for c in customers]),
        "MBG/NBD + Gamma-Gamma expected revenue": alternative["expected_revenue"],
        "BG/NBD + Gamma-Gamma predicted CLV": np.array([predicted[c]["predicted_clv"] for c in customers]),
        "BG/NBD expected purchases": expected_n,
        "historic CLV (value projection)": np.array([baselines["heuristic"].get(c, 0.0) for c in customers]),
        "past spend": np.array([baselines["past"].get(c, 0.0) for c in customers]),
    }
    print(f"\n{'ranking':40} {'Spearman':>9} {'top-10% capture':>16}")
    for name, score in rankings.items():
        rho = spearmanr(score, actual_spend).statistic
        print(f"{name:40} {rho:9.3f} {top_decile_capture(score, actual_spend) * 100:15.1f}%")
    p_alive = np.array([predicted[c]["p_alive"] for c in customers])
    calibration("BG/NBD P(alive) calibration", p_alive, actual_n > 0, expected_n, actual_n)
    calibration("MBG/NBD P(alive) calibration", alternative["p_alive"], actual_n > 0, alternative["expected_purchases"], actual_n)


def synthetic(customers: int, seed: int = 7) -> Facts:
    """A base drawn from the BG/NBD process with CDNOW's parameters (days), observed for 0-365 days."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.243, 1 / (4.414 * 7), customers)
    dropout = rng.beta(0.793, 2.426, customers)
    T = rng.integers(0, 366, customers).astype(float)
    x, t_x, t = np.zeros(customers), np.zeros(customers), np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():
        t[active] += rng.exponential(1 / np.maximum(rate[active], 1e-12))
        active &= t <= T
        x[active] += 1
        t_x[active] = np.floor(t[active])
        active &= rng.random(customers) >= dropout
    scale = rng.gamma(3.74, 1 / 15.44, customers)  # each customer's spend rate ν; a purchase ~ Gamma(p, ν), the mean of x ~ Gamma(p x, x ν)
    spend = np.where(x > 0, rng.gamma(6.25 * np.maximum(x, 1), 1 / (np.maximum(x, 1) * scale)), 0.0)
    return Facts(x, t_x, T, spend)


def report_speed(customers: int) -> None:
    facts = synthetic(customers)
    started = time.perf_counter()
    fitted = models.fit(facts, 0, 365, 0.10, 1.0)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    models.predict(fitted, facts)
    predict_seconds = time.perf_counter() - started
    print(f"\nsynthetic base: {customers:,} customers ({int((facts.x > 0).sum()):,} with repeat purchases); "
          f"fit {fit_seconds:.2f} s (r {fitted.purchases.r:.3f}, alpha {fitted.purchases.alpha / 7:.3f} weeks, "
          f"a {fitted.purchases.a:.3f}, b {fitted.purchases.b:.3f}; drawn with 0.243, 4.414, 0.793, 2.426), predict {predict_seconds:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="Size of the synthetic base the fit is timed on.")
    parser.add_argument("--skip-cdnow", action="store_true", help="Only time the fit.")
    args = parser.parse_args()
    if not args.skip_cdnow:
        purchases = cdnow_purchases()
        with tempfile.TemporaryDirectory() as tmp:
            predicted = through_the_platform(purchases, Path(tmp) / "data")
        report_cdnow(predicted, *measured(purchases))
    report_speed(args.customers)


if __name__ == "__main__":
    main()
