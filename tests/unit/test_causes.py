"""Lifecycle causes and churn reasons as codes with parameters: the rows keep today's English text
and gain the code and parameters next to it, and state stored before codes still loads (its
transitions are written again with their codes)."""

from datetime import UTC, datetime

import orjson

from projections import state_codec
from projections.causes import ENGLISH, cause, english
from projections.pipeline import Pipeline
from projections.replay import Replay
from projections.rules import ProjectionRules
from projections.tables import lifecycle_transitions
from projections.touchpoint import Touchpoint
from schemas import parse_envelope
from tests.events import event, order

PIPELINE = Pipeline(ProjectionRules())
AS_OF = int(datetime(2025, 5, 1, tzinfo=UTC).timestamp() * 1000)
EVENTS = [
    order("2025-01-02T10:00:00Z", 100, "o1", email="a@example.com"),
    order("2025-02-02T10:00:00Z", 80, "o2", email="a@example.com"),
    event("nps_answered", "2025-02-03T10:00:00Z", properties={"score": 3}, email="a@example.com"),
]


def touchpoints(events: list[dict], first: int = 1) -> list[Touchpoint]:
    return [Touchpoint(p, parse_envelope(e).model_dump(mode="json")) for p, e in enumerate(events, start=first)]


def test_the_english_words_are_todays_and_a_weight_follows_them():
    assert english(cause("first_purchase")) == "first purchase"
    assert english(cause("p_alive_below", p_alive=0.487, threshold=0.5, model="m1")) == "P(alive) 0.487 below 0.5 (model m1)"
    assert english(cause("purchase_gap", since="2025-01-02", days=60, weight=30)) == "no purchase since 2025-01-02 (at risk after 60 days) (+30)"
    assert len(ENGLISH) == len(set(ENGLISH)) > 15


def test_rows_hold_the_text_the_code_and_its_parameters():
    tables = Replay(PIPELINE).run(touchpoints(EVENTS), 10, AS_OF).tables()
    steps = [(r["to_stage"], r["cause"], r["cause_code"], orjson.loads(r["cause_params"])) for r in sorted(tables["lifecycle_transitions"], key=lambda r: r["at"])]
    assert steps == [
        ("new", "first purchase", "first_purchase", {}),
        ("repeat", "2 purchases", "repeat", {"purchases": 2}),
        ("at_risk", "detractor (NPS 3)", "detractor", {"nps": 3}),
    ]
    (risk,) = tables["churn_risk"]
    assert risk["reason_codes"] == ["purchase_gap", "quiet", "detractor"]
    assert [orjson.loads(p) for p in risk["reason_params"]] == [{"since": "2025-02-02", "days": 62, "weight": 30}, {"since": "2025-02-03", "days": 60, "weight": 15}, {"nps": 3, "weight": 25}]
    assert risk["reasons"] == ["no purchase since 2025-02-02 (at risk after 62 days) (+30)", "no interaction since 2025-02-03 (quiet after 60 days) (+15)", "detractor (NPS 3) (+25)"]


def test_state_stored_before_codes_loads_and_its_transitions_are_written_again_with_codes():
    replay = Replay(PIPELINE).run(touchpoints(EVENTS), 10, AS_OF)
    (customer,) = replay.profiles
    state = state_codec.decode(replay.profiles[customer])
    state["lifecycle"]["transitions"] = [t[:4] for t in state["lifecycle"]["transitions"]]  # [at, from, to, cause], as stored before
    replay.profiles[customer] = orjson.dumps(state)  # and in JSON, as stored before (state_codec reads both)
    replay.stored["lifecycle_transitions"] = {k: r | {"cause_code": "", "cause_params": "{}"} for k, r in replay.stored["lifecycle_transitions"].items()}
    replay.batch(touchpoints([event("page_viewed", "2025-02-04T10:00:00Z", email="a@example.com")], first=len(EVENTS) + 1), AS_OF)
    rows = sorted(replay.tables()["lifecycle_transitions"], key=lambda r: r["at"])
    assert [(r["cause"], r["cause_code"]) for r in rows] == [("first purchase", "first_purchase"), ("2 purchases", "repeat"), ("detractor (NPS 3)", "detractor")]
    assert all(len(t) == 6 for t in state_codec.decode(replay.profiles[customer])["lifecycle"]["transitions"])
    retracted = lifecycle_transitions.row(customer, [AS_OF, None, "new", "first purchase"], 9, deleted=True)  # a stored transition a late event disproves
    assert (retracted["cause"], retracted["cause_code"], retracted["cause_params"], retracted["is_deleted"]) == ("first purchase", "", "{}", 1)
