"""The outbox keeps actions by derived id, leases what a dispatcher claims, and counts only real attempts."""

import time
from datetime import UTC, datetime

from cdp.activation.outbox import DELIVERED, PENDING, Outbox, Outcome
from projections.actions import Action, derive_action_id

CAUSE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
T = float(int(time.time()) + 86_400)  # a day ahead: actions are due from when they were added (wall-clock seconds), so all of them are due by then


def action(customer: str, cause: str = "p:1", not_before: float | None = None) -> Action:
    when = datetime.fromtimestamp(not_before, UTC) if not_before is not None else None
    return Action(derive_action_id("trigger:t", customer, cause), "trigger:t", customer, "hook", "", "email", "email_marketing", cause, CAUSE_TIME, when, {"x": 1})


def test_an_action_derived_again_is_not_added_again(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    assert outbox.add([action("a"), action("b")]) == 2
    assert outbox.add([action("a"), action("b"), action("c")]) == 1
    assert outbox.counts()[PENDING] == 3


def test_a_claim_is_leased_and_a_lapsed_lease_is_claimed_again_as_the_next_attempt(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.add([action("a")])
    [first] = outbox.claim(now=T + 0, limit=10, lease_seconds=60)
    assert first.attempt == 1 and first.action == action("a")
    assert outbox.claim(now=T + 59, limit=10, lease_seconds=60) == []  # still leased: the first dispatcher may be sending
    [again] = outbox.claim(now=T + 61, limit=10, lease_seconds=60)  # it died: same action, same id
    assert again.attempt == 2 and again.action.action_id == first.action.action_id
    outbox.record([Outcome(again.action.action_id, 2, DELIVERED, "HTTP 200")], at=T + 62)
    assert outbox.claim(now=T + 4000, limit=10, lease_seconds=60) == []
    assert [a["outcome"] for a in outbox.attempts(again.action.action_id)] == [DELIVERED]


def test_quiet_hours_and_a_released_claim(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.add([action("a", not_before=T + 1000)])
    assert outbox.claim(now=T + 999, limit=10, lease_seconds=60) == []
    [claimed] = outbox.claim(now=T + 1000, limit=10, lease_seconds=60)
    outbox.record([Outcome(claimed.action.action_id, claimed.attempt, PENDING, "circuit open", next_at=T + 1100, released=True)], at=T + 1000)
    assert outbox.claim(now=T + 1099, limit=10, lease_seconds=60) == []
    [later] = outbox.claim(now=T + 1100, limit=10, lease_seconds=60)
    assert later.attempt == 1  # the released claim was not an attempt
