"""Sealing personal fields with a key per subject; the key store; what a shredded key leaves."""

import base64
import os
import stat
from pathlib import Path

import orjson
import pytest
from eventsourcing.persistence import Notification

from cdp.config import load_settings
from cdp.errors import CdpError
from cdp.privacy.keystore import KeyStore, Shredded, master_key
from cdp.privacy.sealing import PERSONAL_PATHS, Sealer
from ingestion.validation import Invalid
from projections.identity import IdentityRules
from schemas import ENVELOPE_ADAPTER, ENVELOPE_BY_EVENT_TYPE, Identifiers, parse_envelope
from schemas.personal import personal_paths
from tests.events import event

MASTER = b"m" * 32


def notifications(sealed: list[tuple[str, str, bytes]]) -> list[Notification]:
    return [Notification("id", 1, "topic", body, position) for position, (_, _, body) in enumerate(sealed, start=1)]


@pytest.fixture
def keys(tmp_path: Path):
    store = KeyStore(tmp_path / "keys.sqlite", MASTER)
    yield store
    store.close()


def test_personal_paths_follow_the_schema_markers():
    assert personal_paths(ENVELOPE_BY_EVENT_TYPE["feedback_given"]) == [
        ("context",), ("identifiers", "email"), ("identifiers", "phone"), ("identifiers", "social"), ("properties", "text"), ("traits",),
    ]
    assert ("properties", "fields") in personal_paths(ENVELOPE_BY_EVENT_TYPE["form_submitted"])
    assert ("properties", "amount") not in PERSONAL_PATHS["order_placed"]
    assert ("identifiers", "user_id") in PERSONAL_PATHS["order_placed"]  # sealed too, see cdp.privacy.sealing


def test_sealed_events_hold_no_personal_value_and_open_to_the_original(keys: KeyStore):
    raw = [
        event("feedback_given", "2025-01-02", email="ann@example.com", phone="+8613900000001", traits={"name": "Ann Lee"}, properties={"text": "Ann Lee is happy"}),
        event("order_placed", "2025-01-03", user_id="u-77", properties={"order_id": "o1", "amount": 12.5, "currency": "CNY"}),
    ]
    originals = [parse_envelope(r) for r in raw]
    sealed = Sealer(keys, IdentityRules()).seal(originals)
    for _, _, body in sealed:
        for secret in (b"ann@example.com", b"8613900000001", b"Ann Lee", b"u-77"):
            assert secret not in body
    assert b'"amount":12.5' in sealed[1][2]  # what is not personal stays readable
    public = orjson.loads(sealed[0][2])
    assert public["identifiers"] == {"account_id": None} and "traits" not in public and "text" not in public["properties"]  # left out, not nulled
    opened = Sealer(keys, IdentityRules()).open(notifications(sealed))
    assert [orjson.loads(n.state) for n in opened] == [orjson.loads(ENVELOPE_ADAPTER.dump_json(e)) for e in originals]


def sealed_in_the_earlier_form(keys: KeyStore, original) -> tuple[dict, dict]:
    """``original`` (Ann's email, traits and text) as stored (``plain``), and as sealed before
    2026-12-05 (``earlier``): the personal values nulled in place and sealed keyed by their path."""
    plain = orjson.loads(ENVELOPE_ADAPTER.dump_json(original))
    secret = {"identifiers/email": "ann@example.com", "properties/text": "hi", "traits": {"name": "Ann"}}
    earlier = {**plain, "identifiers": {**plain["identifiers"], "email": None}, "properties": {**plain["properties"], "text": None}, "traits": None}
    key_id, cipher = keys.keys_for(["email:ann@example.com"])["email:ann@example.com"]
    nonce = os.urandom(12)
    data = cipher.encrypt(nonce, orjson.dumps(secret), f"{original.source_name}/{original.message_id}".encode())
    earlier["sealed"] = {"key": key_id, "nonce": base64.b64encode(nonce).decode(), "data": base64.b64encode(data).decode()}
    return plain, earlier


def test_events_sealed_in_the_earlier_form_still_open_to_the_original(keys: KeyStore):
    """Before 2026-12-05 the personal values were nulled in place and sealed keyed by their path."""
    original = parse_envelope(event("feedback_given", "2025-01-02", email="ann@example.com", traits={"name": "Ann"}, properties={"text": "hi", "topic": "delivery"}))
    plain, earlier = sealed_in_the_earlier_form(keys, original)
    (opened,) = Sealer(keys, IdentityRules()).open(notifications([("s", "m", orjson.dumps(earlier))]))
    assert orjson.loads(opened.state) == plain


def test_opening_only_the_identifiers_puts_back_those_and_no_other_sealed_value(keys: KeyStore):
    """What the scale-out relay opens to resolve identities: the identifiers as a full open gives them, nothing else personal."""
    raw = [
        event("feedback_given", "2025-01-02", email="ann@example.com", phone="+8613900000001", traits={"name": "Ann Lee"}, properties={"text": "Ann Lee is happy"}),
        event("order_placed", "2025-01-03", user_id="u-77", properties={"order_id": "o1", "amount": 12.5, "currency": "CNY"}),
    ]
    sealed = Sealer(keys, IdentityRules()).seal([parse_envelope(r) for r in raw])
    full = [orjson.loads(body) for _, _, body in sealed]
    partial = [orjson.loads(body) for _, _, body in sealed]
    Sealer(keys, IdentityRules()).open_envelopes(full)
    Sealer(keys, IdentityRules()).open_envelopes(partial, only="identifiers")
    assert [e["identifiers"] for e in partial] == [e["identifiers"] for e in full]
    assert partial[0]["identifiers"]["email"] == "ann@example.com" and "sealed" not in partial[0]
    assert "traits" not in partial[0] and "text" not in partial[0]["properties"] and "context" not in partial[0]
    assert b"Ann Lee" not in orjson.dumps(partial)


def test_opening_only_the_identifiers_of_an_event_sealed_in_the_earlier_form(keys: KeyStore):
    original = parse_envelope(event("feedback_given", "2025-01-02", email="ann@example.com", traits={"name": "Ann"}, properties={"text": "hi"}))
    plain, earlier = sealed_in_the_earlier_form(keys, original)
    Sealer(keys, IdentityRules()).open_envelopes([earlier], only="identifiers")
    assert earlier["identifiers"] == plain["identifiers"] and earlier["traits"] is None and earlier["properties"]["text"] is None


PAGE = {"url": "https://shop.example.com/cart?email=ann@example.com#Ann", "path": "/cart?email=ann@example.com", "referrer": "https://mail.example.net/u/ann?q=Ann"}


def personal_outside_the_marked_fields() -> list[dict]:
    """Values no ``Personal[...]`` mark covers: URL query strings and fragments, a referrer's path, undeclared (line-item) properties."""
    return [
        event("page_viewed", "2025-01-02", email="ann@example.com", properties={**PAGE, "title": "Cart", "search": "Ann Lee"}),
        event("order_placed", "2025-01-03", user_id="u-77", properties={"order_id": "o1", "amount": 5, "note": "for Ann Lee", "items": [{"product_id": "p1", "engraving": "ANN"}, {"product_id": "p2"}]}),
        event("page_viewed", "2025-01-04", user_id="u-77", properties={"url": "mailto:ann@example.com", "referrer": "https://ann:secret@mail.example.net/"}),
        event("page_viewed", "2025-01-05", user_id="u-77"),
    ]


def test_undeclared_properties_and_personal_url_parts_are_sealed_and_open_to_the_original(keys: KeyStore):
    originals = [parse_envelope(e) for e in personal_outside_the_marked_fields()]
    sealed = Sealer(keys, IdentityRules()).seal(originals)
    for _, _, body in sealed:
        for secret in (b"ann@", b"Ann", b"ANN", b"secret", b"search", b"note", b"engraving", b"q="):
            assert secret not in body
    page, order, odd, empty = (orjson.loads(body)["properties"] for _, _, body in sealed)
    assert page == {"title": "Cart", "name": None, "category": None, "url": "https://shop.example.com/cart", "path": "/cart", "referrer": "https://mail.example.net"}
    assert order["items"] == [{"product_id": "p1", "name": None, "category": None, "quantity": 1, "price": 0.0}, {"product_id": "p2", "name": None, "category": None, "quantity": 1, "price": 0.0}]
    assert (odd["url"], odd["referrer"], empty["url"]) == (None, None, None)  # not http(s) or with user info: no public part
    opened = Sealer(keys, IdentityRules()).open(notifications(sealed))
    assert [orjson.loads(n.state) for n in opened] == [orjson.loads(ENVELOPE_ADAPTER.dump_json(e)) for e in originals]


def test_a_shredded_key_leaves_only_the_public_part_of_urls_and_no_undeclared_property(keys: KeyStore):
    sealer = Sealer(keys, IdentityRules())
    sealed = sealer.seal([parse_envelope(e) for e in personal_outside_the_marked_fields()[:2]])
    keys.shred(keys.subject_key_ids(["email:ann@example.com", "user_id:u-77"]), "f" * 32)
    page, order = (orjson.loads(n.state)["properties"] for n in sealer.open(notifications(sealed)))
    assert page == {"title": "Cart", "name": None, "category": None, "url": "https://shop.example.com/cart", "path": "/cart", "referrer": "https://mail.example.net"}
    assert "note" not in order and [set(item) for item in order["items"]] == [{"product_id", "name", "category", "quantity", "price"}] * 2


def test_events_stored_with_undeclared_properties_and_whole_urls_in_clear_open_erased_without_them(keys: KeyStore):
    """Before 2026-12-06 only the marked fields were sealed; once the key is shredded, such an event opens as one sealed now does."""
    original = parse_envelope(event("page_viewed", "2025-01-02", email="ann@example.com", properties={**PAGE, "search": "Ann Lee"}))
    earlier = orjson.loads(ENVELOPE_ADAPTER.dump_json(original))
    del earlier["identifiers"]["email"], earlier["traits"], earlier["context"]
    key_id, cipher = keys.keys_for(["email:ann@example.com"])["email:ann@example.com"]
    nonce = os.urandom(12)
    secret = {"identifiers": {"email": "ann@example.com"}, "traits": {}, "context": {}}
    data = cipher.encrypt(nonce, orjson.dumps(secret), f"{original.source_name}/{original.message_id}".encode())
    earlier["sealed"] = {"key": key_id, "nonce": base64.b64encode(nonce).decode(), "data": base64.b64encode(data).decode()}
    stored = notifications([("s", "m", orjson.dumps(earlier))])
    assert orjson.loads(Sealer(keys, IdentityRules()).open(stored)[0].state) == orjson.loads(ENVELOPE_ADAPTER.dump_json(original))
    keys.shred([key_id], "f" * 32)
    erased = orjson.loads(Sealer(keys, IdentityRules()).open(stored)[0].state)["properties"]
    assert erased == {"url": "https://shop.example.com/cart", "path": "/cart", "title": None, "referrer": "https://mail.example.net", "name": None, "category": None}


def test_a_sealed_blob_cannot_be_moved_to_another_event(keys: KeyStore):
    sealer = Sealer(keys, IdentityRules())
    a, b = sealer.seal([parse_envelope(event("page_viewed", "2025-01-02", email="ann@example.com")), parse_envelope(event("page_viewed", "2025-01-02", email="ann@example.com"))])
    moved = orjson.loads(b[2]) | {"sealed": orjson.loads(a[2])["sealed"]}
    with pytest.raises(Exception):  # noqa: B017 - AES-GCM's InvalidTag: the associated data is the event's source and message id
        sealer.open(notifications([(b[0], b[1], orjson.dumps(moved))]))


def test_subject_is_the_first_identifier_that_may_join_skipping_placeholders(keys: KeyStore):
    sealer = Sealer(keys, IdentityRules())
    assert sealer.subject(Identifiers(user_id="u1", email="ann@example.com")) == "user_id:u1"
    assert sealer.subject(Identifiers(user_id="guest", email="ann@example.com", phone="+8613900000001")) == "email:ann@example.com"
    assert sealer.subject(Identifiers(email="test@test.com", anonymous_id="a1")) == "anonymous_id:a1"
    assert sealer.subject(Identifiers(user_id="guest", email="test@test.com")) is None


def test_one_key_per_subject_and_events_without_one_get_their_own(keys: KeyStore):
    sealer = Sealer(keys, IdentityRules())
    sealed = sealer.seal([parse_envelope(event("page_viewed", "2025-01-02", email="ann@example.com")) for _ in range(3)] + [parse_envelope(event("page_viewed", "2025-01-02", user_id="guest")) for _ in range(2)])
    key_ids = [orjson.loads(body)["sealed"]["key"] for _, _, body in sealed]
    assert len(set(key_ids[:3])) == 1 and len(set(key_ids[3:])) == 2 and key_ids[0] not in key_ids[3:]
    again = sealer.seal([parse_envelope(event("page_viewed", "2025-02-02", email="ann@example.com"))])
    assert orjson.loads(again[0][2])["sealed"]["key"] == key_ids[0]  # the same person, the same key, batch after batch


def test_a_shredded_key_opens_as_erased_under_the_erasure_token(keys: KeyStore):
    sealer = Sealer(keys, IdentityRules())
    raw = event("nps_answered", "2025-01-02", email="ann@example.com", anonymous_id="a1", account_id="acme", traits={"name": "Ann"}, properties={"score": 9, "comment": "Ann says hi"})
    sealed = sealer.seal([parse_envelope(raw)])
    assert keys.shred(keys.subject_key_ids(["email:ann@example.com"]), "f" * 32) == 1
    (opened,) = sealer.open(notifications(sealed))
    erased = orjson.loads(opened.state)
    assert erased["identifiers"] == {"anonymous_id": None, "user_id": "erased:" + "f" * 32, "email": None, "phone": None, "social": [], "account_id": "acme"}
    assert erased["traits"] == {} and erased["context"] == {} and erased["properties"] == {"score": 9, "survey_id": None}
    assert keys.keys_for(["email:ann@example.com"])["email:ann@example.com"][0] != orjson.loads(sealed[0][2])["sealed"]["key"]  # comes back as someone new


def test_a_key_shredded_by_another_process_is_not_handed_out_again_from_memory(keys: KeyStore, tmp_path: Path):
    remembered = keys.keys_for(["email:ann@example.com"])["email:ann@example.com"]
    assert keys.keys_for(["email:ann@example.com"])["email:ann@example.com"] == remembered
    forgetting = KeyStore(tmp_path / "keys.sqlite", MASTER)  # e.g. `cdp forget` beside `cdp serve`
    forgetting.shred([remembered[0]], "f" * 32)
    forgetting.close()
    assert keys.keys_for(["email:ann@example.com"])["email:ann@example.com"][0] != remembered[0]


def test_the_key_store_holds_no_identifier_and_needs_the_same_master_key(tmp_path: Path):
    store = KeyStore(tmp_path / "keys.sqlite", MASTER)
    (key_id, _), = store.keys_for(["email:ann@example.com"]).values()
    store.close()
    for part in tmp_path.glob("keys.sqlite*"):
        assert b"ann@example.com" not in part.read_bytes()
    other = KeyStore(tmp_path / "keys.sqlite", b"x" * 32)
    with pytest.raises(CdpError, match="master key differs") as error:
        other.open_keys([key_id])
    assert "x" * 32 not in str(error.value)
    assert other.keys_for(["email:ann@example.com"])["email:ann@example.com"][0] != key_id  # its blind index differs too
    other.close()


def test_an_unknown_key_is_a_clear_error(keys: KeyStore):
    with pytest.raises(CdpError, match="has no key nope"):
        keys.open_keys(["nope"])
    keys.shred(["gone"], "a" * 32)
    assert keys.open_keys(["gone"]) == {"gone": Shredded("a" * 32)}


def test_embedded_default_master_key_is_made_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CDP_PRIVACY__MASTER_KEY", raising=False)
    settings = load_settings(data_dir=tmp_path / "data")
    first = master_key(settings)
    assert len(first) >= 32 and master_key(settings) == first
    assert stat.S_IMODE(os.stat(settings.master_key_path).st_mode) == 0o600
    monkeypatch.setenv("CDP_PRIVACY__MASTER_KEY", "k" * 40)
    assert master_key(load_settings(data_dir=tmp_path / "data")) == b"k" * 40


def test_a_bad_master_key_is_refused_without_echoing_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CDP_PRIVACY__MASTER_KEY", "too-short-secret")
    with pytest.raises(CdpError, match="privacy.master_key") as error:
        load_settings(data_dir=tmp_path / "data")
    assert "too-short-secret" not in str(error.value)


def test_an_envelope_that_cannot_be_serialised_is_refused_naming_its_field(keys: KeyStore):
    """pydantic writes at most ~255 levels: the collector serialises each request's events before they share a write."""
    deep: dict = {}
    for _ in range(300):
        deep = {"a": deep}
    envelope = parse_envelope({**event("page_viewed", "2025-01-02", email="ann@example.com"), "context": deep})
    with pytest.raises(Invalid, match=r"^context: cannot be stored \(.*Maximum serialization depth exceeded"):
        Sealer(keys, IdentityRules()).serialise(envelope)
