"""What a segment and a breakdown cost each analysis, through the analytics service, on a processed
data directory (e.g. ``cdp demo --end 2026-12-06``).

    python -m benchmarks.analytics_filters --data-dir .cdp [--repeat 3]

Saves the segment ``bench-buyers`` (orders >= 1) in that data directory if it is not there, then
prints per analysis the median wall time of --repeat runs (after one warm-up): plain, and with the
segment (and, where the analysis takes one, a breakdown).
"""

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.segments.model import parse_segment
from cdp.segments.store import SegmentExists
from cdp.services import operator
from cdp.services.analytics import AnalyticsService

SEGMENT = "bench-buyers"
STEPS = "page_viewed,product_viewed,order_placed"


def cases(s: AnalyticsService) -> dict[str, tuple[Callable, Callable]]:
    return {
        "funnel (breakdown campaign)": (lambda: s.funnel(STEPS), lambda: s.funnel(STEPS, segment=SEGMENT, breakdown="campaign")),
        "retention": (lambda: s.retention(), lambda: s.retention(segment=SEGMENT)),
        "lifecycle flow": (lambda: s.lifecycle_flow(), lambda: s.lifecycle_flow(segment=SEGMENT)),
        "satisfaction": (lambda: s.satisfaction(), lambda: s.satisfaction(segment=SEGMENT)),
        "revenue by stage and tier (a date range)": (lambda: s.revenue(), lambda: s.revenue(start="2026-06-01", segment=SEGMENT)),
        "revenue trend (breakdown channel)": (lambda: s.revenue_trend(), lambda: s.revenue_trend(segment=SEGMENT, breakdown="channel")),
        "channel mix (breakdown source)": (lambda: s.channels(), lambda: s.channels(segment=SEGMENT, breakdown="source")),
        "SLA": (lambda: s.sla(), lambda: s.sla(segment=SEGMENT)),
    }


def median_ms(work: Callable, repeat: int) -> float:
    work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with Platform(load_settings(None, data_dir=args.data_dir)) as platform:
        try:
            platform.segments.create(parse_segment({"name": SEGMENT, "where": {"field": "orders", "op": ">=", "value": 1}}), "benchmark")
        except SegmentExists:
            pass
        service = AnalyticsService(platform, operator())
        for name, (plain, filtered) in cases(service).items():
            print(f"{name}: {median_ms(plain, args.repeat):,.0f} ms; with the segment {median_ms(filtered, args.repeat):,.0f} ms")
        print(f"churn backtest (default period, 90 days): {median_ms(service.churn_backtest, args.repeat):,.0f} ms")


if __name__ == "__main__":
    main()
