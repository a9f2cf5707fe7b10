"""Tag definitions as data (``cdp.services.tags``) on a hand-worked log, through the real stores.

Three customers, as of 2025-03-10 12:00 (the latest event): A bought 300 on 10 January, 10 February
and 10 March (900 in all); B bought 100 on 15 February; C viewed a page on 5 January. The change
shortens ``active_days`` from 90 to 20 and adds ``big_spender`` (revenue of 500 or more). Worked by
hand: now, A was active 0 days ago, B 23 and C 64, so B and C lose ``active`` and gain
``inactive``, and A alone gains ``big_spender``. At the end of January (A 21 days, C 26 days since
their last interaction, B not yet seen) A and C lose ``active``; at the end of February only C
(54.5 days; A 18.5, B 13.5) does, and A, with 600 spent, holds ``big_spender``.
"""

import orjson
import pytest

from cdp.errors import CdpError, SegmentInvalid
from cdp.platform import Platform
from cdp.rebuild import rebuild
from cdp.services import Caller, Forbidden, operator
from cdp.services.analytics import AnalyticsService
from cdp.services.profiles import ProfileService
from cdp.services.segments import SegmentService
from cdp.services.tags import TagDefinitionInvalid, TagService
from ingestion.jsonl import import_lines
from tests.events import event, order

LOG = [
    event("page_viewed", "2025-01-05", email="c@example.com"),
    order("2025-01-10", 300, "o1", email="a@example.com"),
    order("2025-02-10", 300, "o2", email="a@example.com"),
    order("2025-02-15", 100, "o3", email="b@example.com"),
    order("2025-03-10", 300, "o4", email="a@example.com"),
]
CHANGE = {"active_days": 20, "rules": [{"tag": "big_spender", "description": "Spent 500 or more.", "all": [{"feature": "revenue", "op": ">=", "value": 500}]}]}
TAG_TABLES = {
    "customer_tags": "SELECT customer_id, tags, toString(tags_since) AS since FROM cdp.customer_tags FINAL ORDER BY customer_id",
    "tag_changes": "SELECT customer_id, tag, at, change FROM cdp.tag_changes FINAL ORDER BY customer_id, tag, at",
}


@pytest.fixture
def loaded(platform: Platform) -> Platform:
    import_lines((orjson.dumps(e) for e in LOG), platform, "t")
    platform.runner.run()
    return platform


def emails_of(rows: list[dict]) -> list[str]:
    return sorted(e for row in rows for e in row["emails"])


def tag_rows(platform: Platform) -> dict[str, list[dict]]:
    return {name: platform.warehouse.query(sql) for name, sql in TAG_TABLES.items()}


def holders(platform: Platform, tag: str) -> list[str]:
    rows = platform.warehouse.query(
        "SELECT p.emails AS emails FROM cdp.customer_tags AS t FINAL JOIN cdp.profiles AS p FINAL ON p.customer_id = t.customer_id WHERE has(t.tags, {tag:String})", {"tag": tag}
    )
    return emails_of(rows)


def test_a_dry_run_counts_who_would_gain_and_lose_now_and_per_month(loaded: Platform):
    found = TagService(loaded, operator()).dry_run(CHANGE)
    assert found["customers"] == 3 and found["as_of"] == "2025-03-10T12:00:00.000Z"
    by_tag = {t["tag"]: t for t in found["tags"]}
    assert list(by_tag) == ["active", "inactive", "big_spender"]  # only the rules that change, in rule order
    assert [by_tag[t]["change"] for t in by_tag] == ["changed", "changed", "new"]
    now = {tag: {k: v for k, v in t["now"].items() if not k.endswith("sample")} for tag, t in by_tag.items()}
    assert now == {
        "active": {"holders_before": 3, "holders_after": 1, "gain": 0, "lose": 2},
        "inactive": {"holders_before": 0, "holders_after": 2, "gain": 2, "lose": 0},
        "big_spender": {"holders_before": 0, "holders_after": 1, "gain": 1, "lose": 0},
    }
    assert emails_of(by_tag["active"]["now"]["lose_sample"]) == ["b@example.com", "c@example.com"]
    assert emails_of(by_tag["big_spender"]["now"]["gain_sample"]) == ["a@example.com"]
    months = {tag: {m["month"]: (m["holders_before"], m["holders_after"], m["gain"], m["lose"]) for m in t["months"]} for tag, t in by_tag.items()}
    assert len(months["active"]) == 12 and min(months["active"]) == "2024-03" and max(months["active"]) == "2025-02"
    assert months["active"]["2024-12"] == (0, 0, 0, 0)  # nobody seen yet
    assert (months["active"]["2025-01"], months["active"]["2025-02"]) == ((2, 0, 0, 2), (3, 2, 0, 1))
    assert (months["big_spender"]["2025-01"], months["big_spender"]["2025-02"]) == ((0, 0, 0, 0), (0, 1, 1, 0))
    assert TagService(loaded, operator()).history() == []  # a dry run writes nothing
    assert holders(loaded, "active") == ["a@example.com", "b@example.com", "c@example.com"]


def test_a_dry_run_sample_is_masked_without_pii_read(loaded: Platform):
    found = TagService(loaded, Caller("key:reader", frozenset({"profiles:read"}))).dry_run(CHANGE)
    lost = next(t for t in found["tags"] if t["tag"] == "active")["now"]["lose_sample"]
    assert [row["emails"] for row in lost] == [["***"], ["***"]]


def test_a_dry_run_of_rules_reading_a_trait_needs_pii_read(loaded: Platform):
    """Who would gain a tag that tests ``trait.email`` tells the email behind the mask: without
    pii:read such a dry run is refused, age bands (``trait.age_band``) included."""
    reader = TagService(loaded, Caller("key:reader", frozenset({"profiles:read"})))
    probe = {"rules": [{"tag": "probe", "all": [{"feature": "trait.email", "op": "==", "value": "a@example.com"}]}]}
    with pytest.raises(Forbidden, match=r"^tag probe: all\[0\].feature trait.email: this tests personal data, which needs the pii:read scope$"):
        reader.dry_run(probe)
    with pytest.raises(Forbidden, match=r"^tag age:30-39: all\[0\].feature trait.age_band: "):
        reader.dry_run({"age_bands": ["30-39"]})
    assert TagService(loaded, operator()).dry_run(probe)["tags"][0]["tag"] == "probe"


def test_apply_recomputes_the_tags_alone_and_a_full_rebuild_gives_the_same_rows(loaded: Platform):
    service = TagService(loaded, operator())
    lifecycle_before = loaded.warehouse.query("SELECT * FROM cdp.lifecycle_transitions FINAL ORDER BY ALL")
    applied = service.apply(CHANGE)
    assert (applied["version"], applied["tags"], applied["customers"]) == (1, ["active", "inactive", "big_spender"], 3)
    assert (holders(loaded, "active"), holders(loaded, "inactive"), holders(loaded, "big_spender")) == (["a@example.com"], ["b@example.com", "c@example.com"], ["a@example.com"])
    assert loaded.warehouse.query("SELECT * FROM cdp.lifecycle_transitions FINAL ORDER BY ALL") == lifecycle_before  # no other projection rewritten
    shown = service.show("big_spender")
    assert (shown["origin"], shown["customers"], shown["conditions"], [v["version"] for v in shown["versions"]]) == ("version 1", 1, "revenue >= 500", [1])
    assert [h["change"] for h in service.history()] == [CHANGE]
    assert {"tag": "big_spender", "origin": "version 1", "description": "Spent 500 or more.", "conditions": "revenue >= 500"} in service.list()
    assert SegmentService(loaded, operator()).count({"name": "big", "where": {"tag": "big_spender"}})["customers"] == 1  # segments know the new tag

    applied_rows = tag_rows(loaded)
    assert rebuild(loaded, []) == len(LOG)  # the whole log again, under the rules in force
    assert tag_rows(loaded) == applied_rows


def test_every_door_evaluates_a_segment_on_an_applied_tag(loaded: Platform):
    """Analyses with a segment checked its values against the configured tag rules alone, so a
    segment on a tag applied as data (`cdp tags apply`) was refused there while it counted elsewhere."""
    with pytest.raises(SegmentInvalid, match="no tag 'big_spender'"):
        SegmentService(loaded, operator()).count({"name": "big", "where": {"tag": "big_spender"}})
    TagService(loaded, operator()).apply(CHANGE)  # the known values follow (``Platform.segment_values``)
    assert SegmentService(loaded, operator()).create({"name": "big", "where": {"tag": "big_spender"}})["customers"] == 1
    assert [(r["offset"], r["active"]) for r in AnalyticsService(loaded, operator()).retention(segment="big").rows][:1] == [(0, 1)]  # A alone, in its first month
    a = loaded.warehouse.query("SELECT customer_id FROM cdp.identities FINAL WHERE identifier = 'email:a@example.com'")[0]["customer_id"]
    assert ProfileService(loaded, operator()).profile(a)["segments"] == ["big"]


def test_the_runner_follows_applied_definitions_and_a_rebuild_agrees(loaded: Platform):
    TagService(loaded, operator()).apply(CHANGE)
    import_lines((orjson.dumps(e) for e in [order("2025-03-20", 600, "o5", email="b@example.com")]), loaded, "t")
    loaded.runner.run()
    assert holders(loaded, "big_spender") == ["a@example.com", "b@example.com"]  # B's 700 by the new rule
    assert holders(loaded, "active") == ["a@example.com", "b@example.com"]  # C: 74 days, inactive under 20
    incremental = tag_rows(loaded)
    rebuild(loaded, ["tags"])
    assert tag_rows(loaded) == incremental


def test_definitions_are_validated_naming_the_field(loaded: Platform):
    service = TagService(loaded, operator())
    bad = {"rules": [{"tag": "x", "all": [{"feature": "revenue", "op": "=>", "value": 1}, {"feature": "nope", "op": "==", "value": 1}]}], "active_days": 0}
    with pytest.raises(TagDefinitionInvalid) as error:
        service.dry_run(bad)
    message = str(error.value)
    assert "rules[0].all[0].op: Input should be" in message and "rules[0].all[1]: unknown feature 'nope'" in message and "active_days: Input should be greater than 0" in message
    with pytest.raises(TagDefinitionInvalid, match="spend_levels must be ascending"):
        service.apply({"spend_levels": [900, 100]})
    with pytest.raises(TagDefinitionInvalid, match="extra_field: Extra inputs are not permitted"):
        service.apply({"extra_field": 1})
    with pytest.raises(TagDefinitionInvalid, match="the definitions change no tag"):
        service.apply({"active_days": 90})
    for huge in (1e308, 10**20):  # days past any customer's overflowed the compiler (a 500 for a profiles:read dry run)
        with pytest.raises(TagDefinitionInvalid, match=r"rules\[0\].all\[0\]: a number between -1,000,000,000,000 and 1,000,000,000,000"):
            service.dry_run({"rules": [{"tag": "t", "all": [{"feature": "days_since_first_seen", "op": "<", "value": huge}]}]})
    loaded.state.record_unconfirmed(loaded.state.tracked()[0])  # a runner died writing a batch
    with pytest.raises(CdpError, match="the runner has a batch to finish first"):
        service.apply(CHANGE)
    assert service.history() == []  # nothing recorded that was not recomputed


def test_applying_needs_admin(loaded: Platform):
    with pytest.raises(Forbidden, match="admin"):
        TagService(loaded, Caller("key:reader", frozenset({"profiles:read", "pii:read"}))).apply(CHANGE)
    with pytest.raises(Forbidden, match="profiles:read"):
        TagService(loaded, Caller("key:other", frozenset({"segments:read"}))).list()
    assert [(r.action, r.outcome) for r in loaded.audit.query(action="tags.*")] == [("tags.apply", "refused"), ("tags.list", "refused")]
