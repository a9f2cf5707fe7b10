"""What typing a track call, making trait values canonical and converting currencies cost per
event, beside the validation every event pays anyway (issue 22):

    .venv/bin/python -m benchmarks.typing_costs [--repeat 5] [--number 20000]

Best of ``--repeat`` runs of ``--number`` calls each, so a figure is the code's cost rather than
the machine's load. Pure functions only: no store, no server.
"""

import argparse
import timeit
from collections.abc import Callable
from datetime import UTC, date, datetime

from ingestion.track_mapping import default_mapping
from ingestion.validation import validate
from projections.currency import CurrencyRules
from projections.trait_values import default_trait_values

RECEIVED = datetime(2026, 3, 2, tzinfo=UTC)
BASE = {
    "message_id": "m1", "source_kind": "website", "source_name": "web", "occurred_at": "2026-03-01T10:00:00Z",
    "identifiers": {"user_id": "u-1"}, "traits": {}, "context": {},
}  # fmt: skip
ENVELOPES = {
    "page view (not a track call)": {**BASE, "event_type": "page_viewed", "properties": {"url": "https://shop.example/"}},
    "track call, no rule": {**BASE, "event_type": "event_tracked", "properties": {"name": "Video Played", "seconds": 30}},
    "track call mapped (NPS Answered)": {**BASE, "event_type": "event_tracked", "properties": {"name": "NPS Answered", "score": 3}},
}
TRAITS = {"name": "Li Na", "gender": "Female", "age_band": "25-34", "city": "shanghai shi", "country": "CN"}  # the demo's identify traits


def best_us(run: Callable[[], object], repeat: int, number: int) -> float:
    return min(timeit.repeat(run, repeat=repeat, number=number)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args()
    mapping, traits = default_mapping(), default_trait_values()
    currency = CurrencyRules(reporting="CNY", rates={"USD": {date(2026, 1, day): 7.0 + day / 100 for day in range(1, 32)}})
    measure = lambda run: best_us(run, args.repeat, args.number)  # noqa: E731

    print(f"{'per event':<46} {'µs':>8}")
    for label, envelope in ENVELOPES.items():
        print(f"{'validation, ' + label:<46} {measure(lambda e=envelope: validate(mapping.mapped(e), RECEIVED)):8.2f}")
        print(f"{'  of which the track mapping':<46} {measure(lambda e=envelope: mapping.mapped(e)):8.2f}")
    print(f"{'canonical traits (5 traits, 2 configured)':<46} {measure(lambda: {k: traits.canonical(k, v) for k, v in TRAITS.items()}):8.2f}")
    print(f"{'currency conversion (USD, 31 rates)':<46} {measure(lambda: currency.converted(100.0, 'USD', 1_767_830_400_000)):8.2f}")


if __name__ == "__main__":
    main()
