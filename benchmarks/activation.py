"""Actions delivered per second to a local receiver, through the whole delivery path.

    python -m benchmarks.activation [--customers 2000] [--actions 10000] [--batch 100]

A fresh data directory gets ``--customers`` customers who consented to email marketing (ingested
and projected like any events), then ``--actions`` actions for them in the outbox (derived ids,
``Outbox.add``), delivered by the dispatcher to (1) a webhook receiver on loopback that checks every
signature and keeps idempotency keys (``tests.receivers``), and (2) a ``file`` destination. Each
round claims a batch, reads consent and suppression for it from the warehouse, sends, appends the
delivery events to the log and records the outcomes. Prints actions per second for each stage,
and the same with the runner projecting the delivery events afterwards.
"""

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cdp.activation.dispatcher import Dispatcher
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.activation import ActivationService
from ingestion.validation import validate
from projections.actions import Action, derive_action_id
from tests.events import event
from tests.receivers import WebhookReceiver

SECRET = "benchmark-signing-secret-0123456789"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100, help="activation.batch: actions claimed per round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cdp-bench-activation-") as work:
        settings = load_settings(data_dir=Path(work) / "data", activation={"batch": args.batch, "rate_per_second": 1e6})
        with Platform(settings) as platform:
            customers = _customers(platform, args.customers)
            service = ActivationService(platform, operator())
            with WebhookReceiver(SECRET) as receiver:
                service.add_destination("hook", "webhook", {"url": receiver.url, "allow_private": True}, SECRET)
                _measure(platform, customers, args.actions, "hook", "webhook (signed JSON POST, loopback)")
                assert len(receiver.received.accepted) == args.actions and not receiver.received.bad_signatures
            service.add_destination("sink", "file", {"file_name": "sink.jsonl"}, None)
            _measure(platform, customers, args.actions, "sink", "file (JSON Lines, fsync per line)")
            started = time.perf_counter()
            processed = platform.runner.run()
            print(f"{'runner: delivery events projected':<45} {processed / (time.perf_counter() - started):>10,.0f} events/s  ({processed:,} events)")


def _customers(platform: Platform, count: int) -> list[str]:
    now = datetime.now(UTC)
    emails = [f"bench{n}@example.com" for n in range(count)]
    platform.append([validate(event("consent_given", "2025-01-01", properties={"purpose": "email_marketing"}, email=e), now) for e in emails])
    platform.runner.run()
    return [r["customer_id"] for r in platform.warehouse.query("SELECT customer_id FROM cdp.profiles FINAL ORDER BY customer_id")]


def _measure(platform: Platform, customers: list[str], count: int, destination: str, label: str) -> None:
    cause_time = datetime(2025, 1, 1, tzinfo=UTC)
    actions = []
    for n in range(count):
        customer, cause = customers[n % len(customers)], f"p:{n}"
        rule = f"trigger:bench-{destination}"
        actions.append(Action(derive_action_id(rule, customer, cause), rule, customer, destination, "", "email", "email_marketing", cause, cause_time, None, {"n": n}))
    started = time.perf_counter()
    added = platform.outbox.add(actions)
    added_seconds = time.perf_counter() - started
    again = platform.outbox.add(actions)
    dispatcher, delivered = Dispatcher(platform), 0
    started = time.perf_counter()
    while report := dispatcher.run_once():
        if not report.claimed:
            break
        delivered += report.outcomes.get("delivered", 0)
    seconds = time.perf_counter() - started
    assert added == count and again == 0 and delivered == count, (added, again, delivered)
    print(f"{'outbox.add (' + destination + ')':<45} {count / added_seconds:>10,.0f} actions/s  (re-adding the same {count:,}: {again} new)")
    print(f"{'delivered: ' + label:<45} {count / seconds:>10,.0f} actions/s  ({count:,} in {seconds:.1f} s, batches of {platform.settings.activation.batch})")


if __name__ == "__main__":
    main()
