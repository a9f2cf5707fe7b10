"""Offline evaluation of the recommendations (``cdp.recommendations``): hit rate on held-out last purchases.

    python -m benchmarks.recommendations [--data-dir /tmp/bench-tags]

On a loaded data directory (``python -m benchmarks.tags`` or ``cdp demo`` loads the demo), every
customer who bought on two days or more has their last purchase day held out; co-occurrence is
computed in the warehouse on everything else, and each such customer whose held-out day brought a
product they had not bought before counts a hit at N when one of those products is in their top N.
Printed for N = 5 and 10, for the recommendations as served (co-occurrence, topped up with the most
bought, one query) and for the popularity baseline (the most bought products the customer has not bought),
with the time of the evaluation's queries and of one customer's recommendations (median of 50, as
the 360° view and `cdp recommend` ask: their own products scored against ``product_pairs``, which
is refreshed first), and how many of those 50 equal what the full scan of every customer's products
gives now (the read before warehouse migration 32).
"""

import argparse
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.customers import Customers
from cdp.recommendations import for_customer, held_out_sql, params, popular_sql, scored_sql, touched_sql
from cdp.warehouse.views import product_pairs

NS = (5, 10)


def hit_rate(recommended: dict[str, list[str]], held: dict[str, set[str]], n: int) -> float:
    return sum(bool(held[c] & set(recommended.get(c, [])[:n])) for c in held) / len(held)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/bench-tags"))
    args = parser.parse_args()
    with Platform(load_settings(data_dir=args.data_dir)) as platform:
        w = platform.warehouse
        history, held_sql = held_out_sql(w.database)
        started = time.perf_counter()
        held: dict[str, set[str]] = defaultdict(set)
        for row in w.query(f"SELECT customer_id, product FROM {held_sql}", params(max(NS))):
            held[row["customer_id"]].add(row["product"])
        bought: dict[str, set[str]] = defaultdict(set)
        for row in w.query(f"SELECT customer_id, product FROM {history} WHERE bought", params(max(NS))):
            bought[row["customer_id"]].add(row["product"])
        popular = w.query(popular_sql(history), params(max(NS)))
        together: dict[str, list[dict]] = defaultdict(list)
        for row in w.query(scored_sql(history), params(max(NS))):
            together[row["customer_id"]].append(row)
        seconds = time.perf_counter() - started
        if not held:
            raise SystemExit("no customer bought on two days: load the demo first (python -m benchmarks.tags)")
        served = {c: [r["product"] for r in together[c]] for c in held}
        baseline = {c: [p["product"] for p in popular if p["product"] not in bought[c]][: max(NS)] for c in held}
        sample = sorted(held)[:50]
        refreshing = time.perf_counter()
        product_pairs.refresh(w)
        refresh_seconds = time.perf_counter() - refreshing
        full_scan: dict[str, list[dict]] = defaultdict(list)
        for row in w.query(scored_sql(touched_sql(w.database)), params(10)):
            full_scan[row.pop("customer_id")].append(row)
        latencies, equal = [], 0
        for customer in sample:
            one = time.perf_counter()
            served_now = for_customer(w, customer, 10, Customers(w).merged_into(customer))
            latencies.append(time.perf_counter() - one)
            equal += served_now == full_scan[customer]
        products = len(popular)
    print(f"held out: the last purchase day of {len(held):,} customers (a product new to them that day); {products} products bought; evaluation queries {seconds:.1f} s")
    for n in NS:
        print(f"hit rate@{n:<2}  co-occurrence (as served): {hit_rate(served, held, n):6.1%}   popularity baseline: {hit_rate(baseline, held, n):6.1%}")
    print(f"product_pairs recomputed (what the warehouse does every {product_pairs.REFRESH_MINUTES} min): {refresh_seconds:.1f} s")
    print(f"one customer's top 10 (the 360° view, `cdp recommend`): median {statistics.median(latencies) * 1000:.0f} ms over {len(sample)} customers; "
          f"equal to the full scan's for {equal} of {len(sample)}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
