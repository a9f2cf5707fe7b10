"""Identity resolution and the unified profile, as pure functions."""

import random

from projections.identity import IdentityGraph, IdentityRules, joining_keys, resolve
from projections.pipeline import Pipeline
from projections.rules import ProjectionRules
from projections.touchpoint import Touchpoint
from schemas import parse_envelope
from tests.events import event, order


RULES = IdentityRules()


def touchpoints(*events: dict) -> list[Touchpoint]:
    return [Touchpoint(i, parse_envelope(e | {"received_at": e["occurred_at"]}).model_dump(mode="json")) for i, e in enumerate(events, start=1)]


def test_identifiers_seen_together_become_one_customer_the_oldest_surviving():
    tps = touchpoints(
        event("page_viewed", "2025-01-01", anonymous_id="anon-1"),
        order("2025-01-02", 10, "o1", phone="+8613800000001"),
        event("identified", "2025-01-03", anonymous_id="anon-1", email="ann@example.com"),
        event("message_sent", "2025-01-04", wechat="ann_w", properties={"platform": "wechat"}),
        event("ticket_opened", "2025-01-05", wechat="ann_w", phone="+8613800000001", email="ann@example.com", properties={"ticket_id": "t"}),
    )
    result = resolve(IdentityGraph({}, {}), tps, RULES)
    assert len(set(result.assignments.values())) == 1
    first = result.assignments[1]
    assert [m.survivor for m in result.merges] == [first, first]
    assert {m.position for m in result.merges} == {5}
    assert "phone" in result.merges[0].reason and "ann@" not in result.merges[0].reason


def test_unrelated_people_stay_apart():
    tps = touchpoints(order("2025-01-02", 10, "o1", email="a@example.com"), order("2025-01-02", 10, "o2", email="b@example.com"))
    assert len(set(resolve(IdentityGraph({}, {}), tps, RULES).assignments.values())) == 2


def test_placeholder_identifiers_never_join_people():
    tps = touchpoints(
        order("2025-01-02", 10, "o1", email="a@example.com", phone="+10000000000"),
        order("2025-01-02", 10, "o2", email="b@example.com", phone="+10000000000"),
        order("2025-01-03", 10, "o3", email="test@shop.example", user_id="guest"),
        order("2025-01-03", 10, "o4", email="test@shop.example", user_id="guest"),
    )
    assert len(set(resolve(IdentityGraph({}, {}), tps, RULES).assignments.values())) == 4


def test_block_lists_are_configuration():
    rules = IdentityRules(blocked_patterns={"email": [r"@family\.example$"]})
    assert not rules.joins("email:mum@family.example") and rules.joins("phone:+10000000000")
    assert not RULES.joins("phone:+11111111111") and not RULES.joins("phone:0000000") and RULES.joins("phone:+8613912345678")


def run_in_batches(tps: list[Touchpoint], size: int) -> dict:
    """The pipeline with state kept in memory between batches, as a runner keeps it in its store."""
    graph = IdentityGraph({}, {})
    state: dict = {}
    pipeline = Pipeline(ProjectionRules())
    for start in range(0, len(tps), size):
        batch = tps[start : start + size]
        resolution = resolve(graph, batch, RULES)
        as_of = max(tp.occurred_ms for tp in tps[: start + size])
        out = pipeline.project(state, resolution, batch, set(state), as_of, batch[-1].position)
        for gone in out.removed:
            state.pop(gone, None)
        state.update(out.profiles)
    return state


def scrambled_scenario(seed: int) -> list[Touchpoint]:
    rng = random.Random(seed)
    people = [(f"anon-{i}", f"p{i}@example.com", f"+861380000{i:04d}", f"h{i}") for i in range(20)]
    events = []
    for day in range(1, 200, 3):
        anon, email, phone, handle = rng.choice(people)
        at = f"2025-{1 + day // 31:02d}-{1 + day % 28:02d}"
        events.append(
            rng.choice(
                [
                    event("page_viewed", at, anonymous_id=anon),
                    event("identified", at, anonymous_id=anon, email=email, traits={"tier": rng.choice("abc")}),
                    order(at, rng.randint(1, 500), f"o{day}", email=email, phone=phone),
                    event("message_sent", at, wechat=handle, properties={"platform": "wechat"}),
                    event("ticket_opened", at, wechat=handle, phone=phone, properties={"ticket_id": f"t{day}", "is_complaint": True}),
                    event("nps_answered", at, email=email, properties={"score": rng.randint(0, 10)}),
                ]
            )
        )
    rng.shuffle(events)  # arrival order differs from event time: late events everywhere
    return touchpoints(*events)


def test_keys_given_by_the_caller_resolve_as_the_keys_resolve_computes():
    """The scale-out relay computes each event's joining keys once, for loading the graph and for resolving."""
    tps = scrambled_scenario(3)
    keys = [joining_keys(tp.event["identifiers"], RULES) for tp in tps]
    assert resolve(IdentityGraph({}, {}), tps, RULES, keys) == resolve(IdentityGraph({}, {}), tps, RULES)
    assert resolve(IdentityGraph({}, {}), tps, RULES, [[] for _ in tps]) != resolve(IdentityGraph({}, {}), tps, RULES)  # the keys given are the ones used


def test_customer_ids_are_uuid5_of_the_creating_events_source_and_message_id():
    """Derived without ``uuid.UUID`` objects (``schemas.derived_ids``); the ids of existing customers must not change."""
    import uuid

    from projections.identity import CUSTOMER_NAMESPACE, new_customer_id

    for source, message in [("web", "m1"), ("app", "订单-42"), ("x", "a/b/" + "z" * 300), ("", "")]:
        assert new_customer_id({"source_name": source, "message_id": message}) == str(uuid.uuid5(CUSTOMER_NAMESPACE, f"{source}/{message}"))


def test_identifiers_are_ordered_by_the_configured_priority():
    rules = IdentityRules(priority=["anonymous_id", "social", "email", "phone", "user_id"])
    identifiers = {"user_id": "u1", "email": "a@b.cn", "phone": "+8613912345678", "social": [{"platform": "wechat", "handle": "w1"}], "anonymous_id": "d1"}
    assert joining_keys(identifiers, rules) == ["anonymous_id:d1", "social:wechat:w1", "email:a@b.cn", "phone:+8613912345678", "user_id:u1"]
    assert joining_keys({"email": "a@b.cn"}, rules) == ["email:a@b.cn"]


def comparable(state: dict) -> dict:
    return {cid: {k: v for k, v in p.items()} for cid, p in state.items()}


def test_batching_does_not_change_the_result():
    tps = scrambled_scenario(3)
    whole = comparable(run_in_batches(tps, len(tps)))
    for size in (1, 7, 50):
        assert comparable(run_in_batches(tps, size)) == whole


def test_a_late_event_never_overwrites_a_newer_trait():
    tps = touchpoints(
        event("identified", "2025-03-01", email="a@example.com", traits={"city": "Shanghai"}),
        event("identified", "2025-01-01", email="a@example.com", traits={"city": "Beijing", "gender": "f"}),
    )
    (profile,) = run_in_batches(tps, 1).values()
    assert {k: v[0] for k, v in profile["traits"].items()} == {"city": "上海", "gender": "female"}  # Shanghai and f, canonical (projections.trait_values)


def test_erasing_a_profile_keeps_counts_and_drops_every_identifier_value():
    import orjson

    from projections.profile import ProfileRules, apply, empty_profile, erase

    profile = empty_profile("c1")
    unsubscribed = event("identifier_suppressed", "2025-01-02", email="ann@example.com", properties={"purpose": "email_marketing", "reason": "unsubscribe"})
    for tp in touchpoints(event("page_viewed", "2025-01-01", email="ann@example.com", anonymous_id="dev-1"), unsubscribed):
        apply(profile, tp, ProfileRules())
    assert b"ann@example.com" in orjson.dumps(profile["consent"])  # the check below can fail
    erase(profile, "erased:tok")
    assert b"ann@example.com" not in orjson.dumps(profile) and b"dev-1" not in orjson.dumps(profile)
    assert profile["ids"]["user_id"] == ["erased:tok"] and sum(profile["by_event_type"].values()) == 2
