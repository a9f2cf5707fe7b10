"""The churn-risk level over event time, worked out by hand through the projection pipeline: when
warnings are raised and when they end (default rules: medium from 30, high from 60)."""

from projections.churn import ChurnRules
from projections.churn_history import level_changes
from projections.identity import IdentityGraph, IdentityRules, resolve
from projections.lifecycle import LifecycleRules
from projections.pipeline import Pipeline
from projections.rules import ProjectionRules
from projections.touchpoint import Touchpoint
from schemas import parse_envelope
from tests.events import event, order
from tests.unit.test_identity_and_profile import run_in_batches, scrambled_scenario

BEA = {"email": "bea@example.com"}
LATER = event("page_viewed", "2025-04-01", anonymous_id="someone-else")  # moves the data's "as of" on


def complaint(action: str, at: str) -> dict:
    return event(action, at, properties={"ticket_id": "t1", "channel": "phone", "priority": "normal", "is_complaint": True} if action == "ticket_opened"
                 else {"ticket_id": "t1"}, **BEA)


def changes(*events: dict, batch: int = 100) -> list[tuple]:
    """Bea's live churn_level_changes rows after the events, processed in batches of ``batch``: (day, hour, from, to, score, signs)."""
    tps = [Touchpoint(i, parse_envelope(e | {"received_at": e["occurred_at"]}).model_dump(mode="json")) for i, e in enumerate(events, start=1)]
    pipeline, graph, state, live = Pipeline(ProjectionRules()), IdentityGraph({}, {}), {}, {}
    for start in range(0, len(tps), batch):
        chunk = tps[start:start + batch]
        as_of = max(tp.occurred_ms for tp in tps[:start + batch])
        out = pipeline.project(state, resolve(graph, chunk, IdentityRules()), chunk, set(state), as_of, chunk[-1].position)
        state.update(out.profiles)
        for r in out.rows["churn_level_changes"]:
            key = (r["customer_id"], r["at"])
            if r["is_deleted"]:
                live.pop(key, None)
            else:
                live[key] = r
    bea = next(cid for cid, p in state.items() if "bea@example.com" in p["ids"]["email"])
    return [(r["at"].strftime("%m-%d %H"), r["from_level"], r["to_level"], r["score"], r["signs"]) for (cid, _), r in sorted(live.items()) if cid == bea]


BEA_EVENTS = (
    order("2025-01-10", 100, "o1", **BEA),
    event("nps_answered", "2025-02-01", properties={"score": 3}, **BEA),  # detractor: 25, still low
    complaint("ticket_opened", "2025-02-02"),  # + recent complaint 10 = 35: medium
    complaint("ticket_resolved", "2025-02-05"),  # past its 24 h SLA from Feb 3 noon (+25 = 60, high) until resolved
)


def test_warnings_rise_and_fall_at_the_moments_the_signs_appear_and_go():
    assert changes(*BEA_EVENTS, LATER) == [
        ("02-02 12", "low", "medium", 35, ["recent_complaint", "detractor"]),
        ("02-03 12", "medium", "high", 60, ["complaint_past_sla", "recent_complaint", "detractor"]),
        ("02-05 12", "high", "medium", 35, ["recent_complaint", "detractor"]),
    ]


def test_time_alone_raises_a_warning_when_no_event_comes():
    # one purchase on Jan 10 at noon: quiet from Mar 11 (+15, low), no purchase for 90 days from Apr 10 (+30 = 45, medium)
    assert changes(order("2025-01-10", 100, "o1", **BEA), event("page_viewed", "2025-05-01", anonymous_id="someone-else")) == [
        ("04-10 12", "low", "medium", 45, ["purchase_gap", "quiet"]),
    ]


def test_the_history_does_not_depend_on_batches_or_on_late_events():
    assert changes(*BEA_EVENTS, LATER, batch=1) == changes(*BEA_EVENTS, LATER)
    # a purchase on Mar 1 arrives after a batch that saw none since Jan 10: the warning of Apr 10 is retracted
    first, until_may = order("2025-01-10", 100, "o1", **BEA), event("page_viewed", "2025-05-01", anonymous_id="someone-else")
    assert changes(first, until_may, batch=2) == [("04-10 12", "low", "medium", 45, ["purchase_gap", "quiet"])]
    assert changes(first, until_may, order("2025-03-01", 100, "o2", **BEA), batch=2) == []  # at risk only after 2 × 50 days now


def test_replaying_from_each_batch_gives_what_one_replay_from_the_first_fact_gives():
    for seed in (3, 4, 5):
        tps = scrambled_scenario(seed)  # late events everywhere
        as_of = max(tp.occurred_ms for tp in tps)
        for size in (1, 7, 50):
            state = run_in_batches(tps, size)
            whole = {cid: level_changes(p, as_of, ChurnRules(), LifecycleRules()) for cid, p in state.items()}
            assert {cid: p["derived"]["churn_changes"] for cid, p in state.items()} == whole
            assert sum(map(len, whole.values())) > 10
