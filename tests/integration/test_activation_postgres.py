"""The outbox and the enabled-trigger set in PostgreSQL (the scale-out deployment): the same
behaviour as the SQLite ones, and dispatchers on several connections never claim one action twice."""

import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from cdp.activation.outbox import DEAD, DELIVERED, PENDING, Binding, Outcome
from cdp.activation.outbox_postgres import PostgresOutbox
from cdp.config import PostgresSettings
from cdp.triggers import Enabled
from cdp.triggers_postgres import PostgresTriggerStore
from tests.integration.scaleout_harness import fresh_database
from tests.services.postgres import PostgresServer
from tests.unit.test_outbox import T, action


@pytest.fixture
def database(postgres: PostgresServer) -> PostgresSettings:
    server = fresh_database(postgres, "activation")
    return PostgresSettings(host=server.host, port=server.port, dbname=server.dbname, user=server.user, password=server.password)


@pytest.fixture
def outbox(database: PostgresSettings) -> Iterator[PostgresOutbox]:
    outbox = PostgresOutbox(database)
    yield outbox
    outbox.close()


def test_an_action_derived_again_is_not_added_again(outbox):
    assert outbox.add([action("a"), action("b")]) == 2
    assert outbox.add([action("a"), action("b"), action("c")]) == 1
    assert outbox.add([]) == 0
    assert outbox.counts()[PENDING] == 3


def test_a_claim_is_leased_and_a_lapsed_lease_is_claimed_again_as_the_next_attempt(outbox):
    outbox.add([action("a")])
    [first] = outbox.claim(now=T + 0, limit=10, lease_seconds=60)
    assert first.attempt == 1 and first.action == action("a")
    assert outbox.claim(now=T + 59, limit=10, lease_seconds=60) == []
    [again] = outbox.claim(now=T + 61, limit=10, lease_seconds=60)
    assert again.attempt == 2 and again.action.action_id == first.action.action_id
    outbox.record([Outcome(again.action.action_id, 2, DELIVERED, "HTTP 200")], at=T + 62)
    assert outbox.claim(now=T + 4000, limit=10, lease_seconds=60) == []
    assert [a["outcome"] for a in outbox.attempts(again.action.action_id)] == [DELIVERED]
    assert outbox.statuses([again.action.action_id, "unknown"]) == {again.action.action_id: DELIVERED}
    [logged] = outbox.deliveries(customer_ids=["a"])
    assert logged["status"] == DELIVERED and logged["attempts"] == 2


def test_quiet_hours_a_released_claim_a_skipped_destination_and_a_replayed_dead_letter(outbox):
    outbox.add([action("a", not_before=T + 1000)])
    assert outbox.next_due() == T + 1000
    assert outbox.claim(now=T + 999, limit=10, lease_seconds=60) == []
    assert outbox.claim(now=T + 1000, limit=10, lease_seconds=60, skip_destinations=["hook"]) == []  # its circuit is open
    [claimed] = outbox.claim(now=T + 1000, limit=10, lease_seconds=60)
    outbox.record([Outcome(claimed.action.action_id, claimed.attempt, PENDING, "circuit open", next_at=T + 1100, released=True)], at=T + 1000)
    assert outbox.claim(now=T + 1099, limit=10, lease_seconds=60) == []
    [later] = outbox.claim(now=T + 1100, limit=10, lease_seconds=60)
    assert later.attempt == 1
    outbox.record([Outcome(later.action.action_id, 1, DEAD, "HTTP 404")], at=T + 1101)
    assert outbox.deliveries(status=DEAD)[0]["last_error"] == "HTTP 404"
    assert outbox.replay(["unknown"], now=T + 1200) == 0 and outbox.replay(None, now=T + 1200) == 1
    [replayed] = outbox.claim(now=T + 1200, limit=10, lease_seconds=60)
    assert replayed.attempt == 1


def test_dispatchers_claiming_at_once_never_get_the_same_action(database, outbox):
    outbox.add([action(f"c{n}") for n in range(300)])
    dispatchers = [PostgresOutbox(database) for _ in range(4)]
    claimed: list[str] = []
    start = threading.Barrier(len(dispatchers))

    def dispatch(mine: PostgresOutbox) -> None:
        start.wait()
        while batch := mine.claim(now=T, limit=7, lease_seconds=600):
            claimed.extend(c.action.action_id for c in batch)

    threads = [threading.Thread(target=dispatch, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for d in dispatchers:
        d.close()
    assert len(claimed) == 300 and Counter(claimed).most_common(1)[0][1] == 1


def test_bindings_and_their_members(outbox):
    outbox.bind(Binding("vip-crm", "vip", "hook", "", "email", "email_marketing", ("email", "name"), 60, T, None, None))
    assert outbox.add_sync("vip-crm", [action("a")], entered=["a", "b"], left=[], position=7, at=T + 1) == 1
    assert outbox.add_sync("vip-crm", [action("a")], entered=["c"], left=["a"], position=9, at=T + 2) == 0
    assert outbox.members("vip-crm") == {"b", "c"}
    [bound] = outbox.bindings()
    assert bound == outbox.binding("vip-crm") and bound.fields == ("email", "name") and bound.last_sync_position == 9
    assert outbox.unbind("vip-crm") and not outbox.unbind("vip-crm") and outbox.members("vip-crm") == set()


def test_the_enabled_triggers_keep_the_earlier_start(database):
    store = PostgresTriggerStore(database)
    try:
        assert store.enable("birthday", start=1000, enabled_at=1000) == Enabled("birthday", 1000, 1000, False)
        assert store.enable("birthday", start=2000, enabled_at=2000) == Enabled("birthday", 1000, 1000, False)  # enabled already
        assert store.enable("birthday", start=500, enabled_at=3000) == Enabled("birthday", 500, 1000, True)  # a backfill
        assert store.all() == {"birthday": Enabled("birthday", 500, 1000, True)}
        assert store.disable("birthday") and not store.disable("birthday") and store.get("birthday") is None
    finally:
        store.close()
