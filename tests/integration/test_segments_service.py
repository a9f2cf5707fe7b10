"""The segment service on a real data directory: versions and their history, scopes, consent purposes
with the configured defaults, masking without pii:read, audit records, and exports a spreadsheet
will not run."""

import csv
import io
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import orjson
import pytest

from cdp.config import ConsentSettings, Settings
from cdp.console.i18n import Translator
from cdp.errors import CdpError, SegmentInvalid
from cdp.masking import MASK
from cdp.platform import Platform
from cdp.spreadsheet import csv_cell
from cdp.segments.model import MAX_CONDITIONS, MAX_PROPERTY_COMPARISONS, parse_segment
from cdp.segments.store import SegmentStore
from cdp.segments.values import known_values
from cdp.services import Caller, Conflict, Forbidden, NotFound, operator
from cdp.services.analytics import AnalyticsService
from cdp.services.profiles import ProfileService
from cdp.services.segments import SegmentService
from ingestion.jsonl import import_lines
from projections.tags.rules import TagRule
from tests.events import event

LOG = [
    event("consent_given", "2025-01-01", properties={"purpose": "email_marketing"}, email="ann@example.com", user_id="=HYPERLINK(\"http://evil.example\")"),
    event("consent_given", "2025-01-01", properties={"purpose": "analytics"}, email="bob@example.com", user_id="@SUM(1+1)"),
    event("page_viewed", "2025-01-02", email="cat@example.com", phone="+8613800138000", user_id="-2+3"),
]
EVERYONE = {"name": "everyone", "where": {"field": "events_total", "op": ">=", "value": 1}}
READER = Caller("key:reader", frozenset({"segments:read"}))


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    with Platform(settings) as p:
        import_lines(io.BytesIO(b"\n".join(map(orjson.dumps, LOG))), p, "log", settings.batch_size)
        p.runner.run()
        yield p


def records(platform: Platform) -> list[tuple[str, str, str, str]]:
    return [(r.actor, r.action, r.target, r.outcome) for r in platform.audit.query(action="segment.*")]


def test_versions_keep_the_history_and_every_write_is_audited(platform: Platform):
    ops = SegmentService(platform, operator())
    assert ops.create(EVERYONE)["customers"] == 3
    with pytest.raises(Conflict, match="a segment named 'everyone' exists"):
        ops.create(EVERYONE)
    updated = SegmentService(platform, Caller("key:ann", frozenset({"segments:write", "segments:read"}))).update("everyone", {"where": {"consent": "email_marketing"}})
    assert (updated["version"], updated["customers"]) == (2, 1)
    shown = ops.get("everyone")
    assert [(v["version"], v["actor"]) for v in shown["history"]] == [(1, operator().actor), (2, "key:ann")]
    assert shown["definition"] == {"name": "everyone", "where": {"consent": "email_marketing"}}
    assert shown["history"][0]["definition"] == EVERYONE
    assert [(s["name"], s["version"]) for s in ops.list()] == [("everyone", 2)]

    ops.delete("everyone")
    with pytest.raises(NotFound, match="no segment named 'everyone'"):
        ops.get("everyone")
    with pytest.raises(NotFound):
        ops.update("everyone", EVERYONE)
    assert ops.create(EVERYONE)["version"] == 1  # a new segment: the deleted one's history went with it
    me = operator().actor
    assert records(platform) == [
        (me, "segment.create", "everyone", "ok"), (me, "segment.create", "everyone", "conflict"), ("key:ann", "segment.update", "everyone", "ok"),
        (me, "segment.read", "everyone", "ok"), (me, "segment.list", "*", "ok"), (me, "segment.delete", "everyone", "ok"),
        (me, "segment.read", "everyone", "not_found"), (me, "segment.update", "everyone", "not_found"), (me, "segment.create", "everyone", "ok"),
    ]  # fmt: skip


def test_writes_need_segments_write_and_the_refusal_is_audited(platform: Platform):
    with pytest.raises(Forbidden, match="this needs the segments:write scope"):
        SegmentService(platform, READER).create(EVERYONE)
    with pytest.raises(Forbidden, match="this needs the segments:read scope"):
        SegmentService(platform, Caller("key:w", frozenset({"segments:write"}))).count(EVERYONE)
    assert SegmentService(platform, Caller("key:root", frozenset({"admin"}))).create(EVERYONE)["version"] == 1
    assert records(platform) == [("key:reader", "segment.create", "(definition)", "refused"), ("key:w", "segment.count", "(definition)", "refused"), ("key:root", "segment.create", "everyone", "ok")]


def test_a_definition_testing_personal_data_needs_pii_read_unless_it_is_saved(platform: Platform):
    """Counting a made-up definition is an oracle for what the mask hides (a binary search on
    ``trait email < "m..."`` spells an email out in some forty counts): without pii:read no door
    takes a trait, or an event property shown masked, in a definition; a saved segment's conditions,
    chosen by its writer, still count for that caller."""
    writer = SegmentService(platform, Caller("key:w", frozenset({"segments:read", "segments:write"})))
    by_trait = {"name": "probe", "where": {"all": [EVERYONE["where"], {"trait": "email", "op": "<", "value": "b"}]}}
    by_comment = {"name": "probe", "where": {"not": {"event": "nps_answered", "properties": {"score": 9, "comment": "great"}}}}
    refused = {
        r"where.all\[1\].trait": [lambda: writer.count(by_trait), lambda: writer.preview(by_trait), lambda: writer.create(by_trait)],
        r"where.not.properties.comment": [lambda: writer.members(by_comment), lambda: writer.export(by_comment, io.BytesIO(), "csv")],
    }
    for path, calls in refused.items():
        for call in calls:
            with pytest.raises(Forbidden, match=f"^{path}: this tests personal data, which needs the pii:read scope$"):
                call()
    assert writer.count({"name": "shown", "where": {"event": "consent_given", "properties": {"purpose": "analytics"}}})["customers"] == 1  # a property shown whole
    ops = SegmentService(platform, operator())
    counted = ops.count(by_trait)["customers"]
    assert ops.create(by_trait)["customers"] == counted and writer.count("probe")["customers"] == counted
    with pytest.raises(Forbidden, match=r"^where.all\[1\].trait: "):
        writer.update("probe", by_trait)
    assert [r[3] for r in records(platform) if r[0] == "key:w"][:5] == ["refused"] * 5


def test_a_segment_built_on_saved_segments_follows_them_and_keeps_their_writers_conditions(platform: Platform):
    """``{segment: NAME}`` is the saved segment as saved now: a caller without pii:read may narrow a
    saved segment that tests a trait (its conditions are its writer's), a change to it reaches the
    segments built on it, and references stay one level deep, each to a segment that is saved."""
    ops = SegmentService(platform, operator())
    writer = SegmentService(platform, Caller("key:w", frozenset({"segments:read", "segments:write"})))
    ops.create({"name": "no-email-trait", "where": {"not": {"trait": "email", "op": "exists"}}})
    ops.create({"name": "consented", "where": {"consent": "email_marketing"}})
    narrowed = {"name": "no-email-trait-not-consented", "where": {"all": [{"segment": "no-email-trait"}, {"not": {"segment": "consented"}}]}}
    assert writer.count(narrowed)["customers"] == 2  # bob and cat: ann consented to email marketing
    assert writer.create(narrowed)["customers"] == 2
    everyone_but_ann = {"name": "x", "where": {"all": [{"segment": "no-email-trait"}, {"not": {"consent": "email_marketing"}}]}}
    assert writer.members("no-email-trait-not-consented") == writer.members(everyone_but_ann)
    ops.update("consented", {"where": {"field": "events_total", "op": ">=", "value": 1}})
    assert writer.count("no-email-trait-not-consented")["customers"] == 0  # the saved segment as saved now
    assert ops.get("no-email-trait-not-consented")["definition"] == narrowed  # shown as written

    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where.all\[1\].segment: no saved segment 'nobody'$"):
        writer.count({"name": "x", "where": {"all": [{"segment": "no-email-trait"}, {"segment": "nobody"}]}})
    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where.any\[0\].segment: a segment cannot be built on itself$"):
        ops.update("consented", {"where": {"any": [{"segment": "consented"}]}})
    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where.segment: the segment\(s\) no-email-trait-not-consented are built on this one, so it cannot be built on saved segments itself$"):
        ops.update("consented", {"where": {"segment": "no-email-trait"}})  # one level: no chain to follow, no cycle
    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where.segment: 'no-email-trait-not-consented' is built on saved segments itself; build on the segments it is built on$"):
        ops.create({"name": "x", "where": {"segment": "no-email-trait-not-consented"}})
    assert ops.count({"name": "x", "where": {"segment": "no-email-trait-not-consented"}})["customers"] == 0  # not saved: two levels
    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where: the segment 'no-email-trait-not-consented' is built on this one and would become invalid: where: 101 conditions; a segment has at most 100$"):
        ops.update("consented", {"where": {"any": [{"consent": "analytics"}] * 100}})  # with the other reference: 101
    with pytest.raises(Conflict, match=r"^segment 'no-email-trait' is part of the segment\(s\) no-email-trait-not-consented; take it out of them first$"):
        ops.delete("no-email-trait")
    ops.update("no-email-trait-not-consented", {"where": {"segment": "consented"}})
    ops.delete("no-email-trait")  # no longer used: its newest version is what counts
    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where: 101 conditions; a segment has at most 100$"):
        ops.create({"name": "wide", "where": {"all": [{"segment": "consented"}] * 101}})
    assert ops.count({"name": "consented", "where": {"segment": "consented"}})["customers"] == 3  # not saved: its name's saved segment
    with pytest.raises(SegmentInvalid, match="expected a condition: all, any, not, field, trait, tag, event, consent or segment"):
        ops.count({"name": "x", "where": {"segmnt": "consented"}})


def test_the_largest_definition_runs_everywhere_and_one_built_past_it_is_refused(platform: Platform):
    """A definition within every limit failed with a 500 once its SQL passed ClickHouse's max_query_size
    (256 KiB): now the property comparisons of a definition are limited, references expanded."""
    ops = SegmentService(platform, operator())
    properties = lambda n, at: {f"k{at}-{i}-" + "x" * 180: f"v{i}" for i in range(n)}  # noqa: E731 (names are parameters: no SQL)
    per_condition = MAX_PROPERTY_COMPARISONS // MAX_CONDITIONS
    widest = [{"not": {"event": "order_placed", "within_days": 30, "at_most": 9, "properties": properties(per_condition, c)}} for c in range(MAX_CONDITIONS)]
    assert ops.create({"name": "widest", "where": {"any": widest}})["customers"] == 3  # nobody placed such an order
    assert [m["customer_id"] for m in ops.members("widest", purpose="email_marketing")] == [platform.warehouse.query(
        "SELECT customer_id FROM cdp.profiles FINAL WHERE has(emails, 'ann@example.com')")[0]["customer_id"]]  # with the consent SQL besides
    assert AnalyticsService(platform, operator()).retention(segment="widest").rows  # within an analysis's SQL

    half = MAX_PROPERTY_COMPARISONS // 2
    ops.create({"name": "half", "where": {"all": [{"event": "order_placed", "properties": properties(half // 4, c)} for c in range(4)]}})
    ops.create({"name": "both", "where": {"all": [{"segment": "half"}, {"segment": "half"}]}})
    with pytest.raises(SegmentInvalid, match=rf"^invalid segment: where: {MAX_PROPERTY_COMPARISONS + 1} event properties compared; a segment compares at most {MAX_PROPERTY_COMPARISONS} in all$"):
        ops.count({"name": "x", "where": {"all": [{"segment": "half"}, {"segment": "half"}, {"event": "order_placed", "properties": {"a": 1}}]}})
    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where: the segment 'both' is built on this one and would become invalid: where: 402 event properties compared") as broken:
        ops.update("half", {"where": {"all": [{"event": "order_placed", "properties": properties(half // 4, c)} for c in range(4)] + [{"event": "page_viewed", "properties": {"a": 1}}]}})
    assert Translator("zh-CN").problem(broken.value.problems[0]) == "人群“both”建立在此人群之上，保存后将失效：where: 共比较 402 个事件属性；一个分群最多比较 400 个"  # the console's words, inside too


def test_a_saved_segment_no_longer_valid_fails_its_own_evaluation_only(platform: Platform):
    """A saved segment can stop expanding without a save, or pass the limits of one definition (a
    store edited by hand; it was once SQL longer than the warehouse takes): the 360° view then lists
    the segments the customer is in without it, where one such segment failed every profile read."""
    ops = SegmentService(platform, operator())
    ops.create({"name": "consented", "where": {"consent": "email_marketing"}})
    ops.create({"name": "built", "where": {"segment": "consented"}})
    too_long = {"name": "huge", "where": {"any": [{"event": "order_placed", "properties": {f"k{i}": "v" for i in range(50)}}] * 100}}  # ~700 kB of SQL, were it compiled
    with sqlite3.connect(platform.settings.data_dir / "segments.sqlite") as db:  # as a lost race or a hand edit would leave it
        db.execute("UPDATE segment_versions SET definition = ? WHERE name = 'consented'", (orjson.dumps({"name": "consented", "where": {"segment": "built"}}),))
        db.execute("INSERT INTO segment_versions (name, version, definition, actor) VALUES ('huge', 1, ?, 't')", (orjson.dumps(too_long),))
    with pytest.raises(SegmentInvalid, match="^invalid segment: where: 5,000 event properties compared"):
        ops.count("huge")
    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where.segment: the saved segment 'consented' is no longer valid: where.segment: 'built' is built on saved segments itself"):
        ops.count("built")
    ann = platform.warehouse.query("SELECT customer_id FROM cdp.identities FINAL WHERE identifier = 'email:ann@example.com'")[0]["customer_id"]
    assert ProfileService(platform, operator()).profile(ann)["segments"] == []


def test_a_saved_segment_on_a_tag_no_longer_in_force_is_refused_wherever_it_is_evaluated(settings: Settings):
    """A tag rule taken out of the configuration after segments were saved on it: evaluating them
    names the unknown tag, through a reference too (the reference's path, the referred segment's
    problem inside), where a segment built on one evaluated to whoever still held the stale tag."""
    rule = TagRule.model_validate({"tag": "seen", "all": [{"feature": "revenue", "op": ">=", "value": 0}]})
    with Platform(settings.model_copy(update={"tags": settings.tags.model_copy(update={"rules": [rule]})})) as tagged:
        import_lines(io.BytesIO(b"\n".join(map(orjson.dumps, LOG))), tagged, "log", settings.batch_size)
        tagged.runner.run()
        ops = SegmentService(tagged, operator())
        assert ops.create({"name": "seen", "where": {"tag": "seen"}})["customers"] == 3
        assert ops.create({"name": "built-on-seen", "where": {"all": [{"segment": "seen"}, {"consent": "email_marketing"}]}})["customers"] == 1
    with Platform(settings) as untagged:
        ops = SegmentService(untagged, operator())
        with pytest.raises(SegmentInvalid, match=r"^invalid segment: where.tag: no tag 'seen'"):
            ops.count("seen")
        own = r"where.all\[0\].segment: the saved segment 'seen' is no longer valid: where.tag: no tag 'seen'"
        with pytest.raises(SegmentInvalid, match=rf"^invalid segment: {own}") as refused:
            ops.count("built-on-seen")
        assert Translator("zh-CN").problem(refused.value.problems[0]).startswith("已保存的人群“seen”已失效：where.tag: ")
        with pytest.raises(SegmentInvalid, match=rf"^invalid segment: where.any\[0\].segment: the saved segment 'built-on-seen' is no longer valid: {own}"):
            ops.count({"name": "x", "where": {"any": [{"segment": "built-on-seen"}]}})  # not saved: two levels
        with pytest.raises(SegmentInvalid, match=rf"^invalid segment: {own}"):
            AnalyticsService(untagged, operator()).retention(segment="built-on-seen")
        ann = untagged.warehouse.query("SELECT customer_id FROM cdp.identities FINAL WHERE identifier = 'email:ann@example.com'")[0]["customer_id"]
        assert ProfileService(untagged, operator()).profile(ann)["segments"] == []
        assert [s["name"] for s in ops.list()] == ["built-on-seen", "seen"]  # kept, to be mended
        assert ops.update("seen", {"where": {"field": "events_total", "op": ">=", "value": 1}})["customers"] == 3
        assert ops.count("built-on-seen")["customers"] == 1
        assert ProfileService(untagged, operator()).profile(ann)["segments"] == ["built-on-seen", "seen"]


def test_contact_data_needs_a_purpose_unless_the_caller_sees_it_masked(platform: Platform):
    ops, reader = SegmentService(platform, operator()), SegmentService(platform, READER)
    with pytest.raises(CdpError, match=r"^purpose: required to export contact data \(emails, phones\)"):
        ops.members(EVERYONE)
    masked = reader.members(EVERYONE)
    assert len(masked) == 3 and {m["emails"][0] for m in masked} == {MASK}
    assert [m["emails"] for m in ops.members(EVERYONE, purpose="email_marketing")] == [["ann@example.com"]]
    assert [m["emails"] for m in reader.members(EVERYONE, purpose="email_marketing")] == [[MASK]]
    assert ops.count(EVERYONE, "email_marketing")["customers"] == 1
    assert ops.count(EVERYONE, "analytics")["customers"] == 3  # granted without a decision by default; bob granted it
    detail = platform.audit.query(action="segment.members")[0].detail
    assert detail == {"limit": 100, "offset": 0, "purpose": None, "saved": False, "pii": True}


def test_the_configured_consent_defaults_apply(settings: Settings, platform: Platform):
    platform.close()
    opt_out = settings.model_copy(update={"consent": ConsentSettings(defaults={"email_marketing": True})})
    with Platform(opt_out) as configured:
        assert SegmentService(configured, operator()).count(EVERYONE, "email_marketing")["customers"] == 3


def test_invalid_requests_name_the_field(platform: Platform):
    ops = SegmentService(platform, operator())
    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where\.all\[1\]\.value: tier has no value 'VIP'"):
        ops.preview({"name": "x", "where": {"all": [{"tag": "promoter"}, {"field": "tier", "op": "=", "value": "VIP"}]}})
    with pytest.raises(CdpError, match="^columns: no profile column 'passwords'; known: customer_id"):
        ops.members(EVERYONE, columns=["customer_id", "passwords"], purpose="none")
    with pytest.raises(CdpError, match="^limit: 0 is not between 1 and 10,000"):
        ops.members(EVERYONE, limit=0)
    with pytest.raises(CdpError, match="^format: expected csv or parquet, got 'xlsx'"):
        ops.export(EVERYONE, io.BytesIO(), "xlsx", "none")
    ops.create(EVERYONE)
    with pytest.raises(SegmentInvalid, match="^invalid segment: name: 'other' differs from the segment being updated, 'everyone'"):
        ops.update("everyone", EVERYONE | {"name": "other"})
    assert [r[3] for r in records(platform)] == ["invalid", "invalid", "invalid", "invalid", "ok", "invalid"]


def test_csv_exports_neutralise_formulas_and_keep_plain_numbers(platform: Platform):
    exported = io.BytesIO()
    assert SegmentService(platform, operator()).export(EVERYONE, exported, "csv", "none", ["customer_id", "user_ids", "phones", "revenue"]) == 3
    rows = list(csv.DictReader(io.StringIO(exported.getvalue().decode())))
    user_ids = sorted(r["user_ids"] for r in rows)
    assert user_ids == sorted(["'=HYPERLINK(\"http://evil.example\")", "'@SUM(1+1)", "'-2+3"])
    assert sorted(r["phones"] for r in rows) == ["", "", "+8613800138000"]  # a number runs nothing, and the tools need it whole
    assert [csv_cell(v) for v in ("+1-555", "\tx", "\r=1", "-5", "-5.5", 3, None, ["=a", "b"], "a=b")] == ["'+1-555", "'\tx", "'\r=1", "-5", "-5.5", 3, "", "'=a;b", "a=b"]
    # a spreadsheet splitting on ";" (German, French locales) gets no formula from a later part either
    assert csv_cell(["0abc", "=1+2", "=cmd|' /C calc'!A0", "+8613800138000"]) == "0abc;'=1+2;'=cmd|' /C calc'!A0;+8613800138000"
    assert csv_cell("a;@SUM(1);-2") == "a;'@SUM(1);-2"


def test_a_data_directory_from_before_versions_is_adopted(settings: Settings):
    path = settings.data_dir / "old-segments.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE segments (name TEXT PRIMARY KEY, definition BLOB NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
        old.execute("INSERT INTO segments VALUES ('everyone', ?, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z')", (orjson.dumps(EVERYONE),))
    old.close()
    store = SegmentStore(path, lambda: known_values(settings))
    try:
        [version] = store.history("everyone")
        assert (version.version, version.saved_at, version.actor, version.segment) == (1, "2025-02-01T00:00:00Z", "", parse_segment(EVERYONE))
        assert store.update(parse_segment(EVERYONE), "cli:ann").version == 2
    finally:
        store.close()
    with closing(SegmentStore(path, lambda: known_values(settings))) as reopened:
        assert reopened.list()[0]["version"] == 2  # adopted once


def test_saves_racing_each_other_cannot_leave_a_chain_or_a_dangling_reference(settings: Settings):
    """Each save checks the references in its own write transaction (BEGIN IMMEDIATE): of two
    updates making a and b refer to each other, and of a create referring to b against b's delete,
    one wins and the other is refused. Checked before the write only, both went through."""
    stores = [SegmentStore(settings.segments_path, lambda: known_values(settings)) for _ in range(2)]
    leaf = lambda name: parse_segment({"name": name, "where": {"consent": "analytics"}})  # noqa: E731
    stores[0].create(leaf("a"), "t")
    stores[0].create(leaf("b"), "t")

    def at_once(*saves):
        start = threading.Barrier(len(saves))

        def run(save):
            start.wait()
            try:
                save()
                return "saved"
            except (SegmentInvalid, CdpError):
                return "refused"

        with ThreadPoolExecutor(len(saves)) as pool:
            return sorted(pool.map(run, saves))

    for _ in range(5):
        outcome = at_once(lambda: stores[0].update(parse_segment({"name": "a", "where": {"segment": "b"}}), "t"),
                          lambda: stores[1].update(parse_segment({"name": "b", "where": {"segment": "a"}}), "t"))
        assert outcome == ["refused", "saved"]
        stores[0].update(leaf("a"), "t")
        stores[0].update(leaf("b"), "t")
    outcome = at_once(lambda: stores[0].create(parse_segment({"name": "c", "where": {"segment": "b"}}), "t"), lambda: stores[1].delete("b"))
    assert outcome == ["refused", "saved"]
    for name in [s["name"] for s in stores[0].list()]:
        stores[0].get(name)  # every saved segment expands
