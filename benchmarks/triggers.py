"""What triggers cost the projections, and how fast they derive actions.

    python -m benchmarks.triggers [--customers 5000]

The synthetic workload (``cdp.workload``, a birthday added to every sign-up's traits) runs through
every projection in memory, in batches of 5,000 as the runner does (``projections.replay``):
once with no trigger, once with one rule of each kind enabled from the first event. A batch of
5,000 synthetic events spans weeks, so ``late_days`` is a year here (the default, 3, would call
most causes stale, as a rebuild in large batches does). Prints events/s for both, the actions
derived per rule and actions/s.
"""

import argparse
import random
import time
from collections import Counter

from benchmarks.projections import touchpoints
from projections.pipeline import Pipeline
from projections.replay import Replay
from projections.rules import ProjectionRules
from projections.triggers import Trigger, TriggerRules

BATCH = 5_000
EMAIL = {"destination": "mail", "channel": "email", "template": "t", "purpose": "email_marketing"}
STAFF = {"destination": "team_chat", "channel": "staff", "template": "t", "purpose": ""}
RULES = {
    "birthday": {"when": {"kind": "birthday", "days_before": 3}, "then": EMAIL},
    "holiday": {"when": {"kind": "holiday", "holiday": "christmas", "days_before": 2}, "where": {"stages": ["repeat", "loyal"]}, "then": EMAIL},
    "revisit": {"when": {"kind": "revisit", "days_after": 7}, "then": {**EMAIL, "channel": "phone", "purpose": "phone_marketing"}},
    "thanks": {"when": {"kind": "event", "event_type": "order_placed"}, "then": EMAIL},
    "vip_at_risk": {"when": {"kind": "lifecycle", "to_stage": "at_risk"}, "where": {"tiers": ["vip", "super"]}, "then": STAFF},
    "late_complaint": {"when": {"kind": "complaint_past_sla"}, "then": STAFF},
    "churn_high": {"when": {"kind": "churn_raised", "to_level": "high"}, "then": STAFF},
    "promoter": {"when": {"kind": "tag", "tag": "promoter"}, "then": EMAIL},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=5_000)
    args = parser.parse_args()
    tps = touchpoints(args.customers)
    rng = random.Random(7)
    for tp in tps:
        if tp.event["event_type"] == "identified" and tp.event["traits"]:
            tp.event["traits"]["birthday"] = f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    triggers = TriggerRules.model_validate({"rules": RULES, "holidays": {"christmas": {"month_day": "12-25"}}, "frequency_caps": {"email": {"count": 3, "days": 7}}, "late_days": 365})
    enabled = [Trigger(name, rule, 0) for name, rule in triggers.rules.items()]
    plain = _timed(Replay(Pipeline(ProjectionRules()), keep_rows=False), tps)
    with_triggers = Replay(Pipeline(ProjectionRules(triggers=triggers), enabled), keep_rows=False)
    seconds = _timed(with_triggers, tps)
    print(f"{len(tps):,} events, {args.customers:,} customers, batches of {BATCH:,}")
    print(f"  no trigger:        {len(tps) / plain:10,.0f} events/s")
    print(f"  {len(RULES)} triggers:        {len(tps) / seconds:10,.0f} events/s ({(seconds / plain - 1) * 100:+.0f}% time)")
    actions = with_triggers.actions
    print(f"  actions derived:   {len(actions):10,} ({len(actions) / seconds:,.0f}/s of projection time), ids unique: {len({a.action_id for a in actions}) == len(actions)}")
    for rule, n in sorted(Counter(a.rule for a in actions).items()):
        print(f"    {rule:28} {n:8,}")


def _timed(replay: Replay, tps: list) -> float:
    started = time.perf_counter()
    replay.run(tps, BATCH)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
