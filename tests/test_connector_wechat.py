"""The WeChat Official Account connector over real HTTP: the server URL check, signed XML pushes of
every kind mapped to social touchpoints, forgeries refused, hostile XML refused without expanding it."""

import time
from collections.abc import Iterator

import orjson
import pytest

from cdp.api.collector import NO_SUBSCRIPTION_CHECK, WEBHOOK_REFUSED
from cdp.config import Settings
from cdp.platform import Platform
from cdp.replay import replay
from ingestion.connectors.wechat import WeChatOfficialAccount
from tests.collector_server import RunningCollector, running_collector

TOKEN = "wx-token-3c9a71"  # the token typed into the account's server settings: the source's signing secret
ACCOUNT, OPENID = "gh_3f5a8c2e91d0", "oQk2x5Yh0aZ3T1lP9mVb7cR4eU8s"
WECHAT = WeChatOfficialAccount()


def push(fields: str, openid: str = OPENID) -> bytes:
    return f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>{fields}</xml>".encode()


def signed(token: str = TOKEN, nonce: str = "417093", age_seconds: int = 0) -> dict[str, str]:
    return WECHAT.sign_query(token, str(int(time.time()) - age_seconds), nonce) | {"openid": OPENID}


@pytest.fixture
def collector(settings: Settings) -> Iterator[RunningCollector]:
    with Platform(settings) as platform, running_collector(platform) as running:
        running.add_source("wx", "social", WECHAT.name, TOKEN)
        yield running


def post(collector: RunningCollector, body: bytes, query: dict[str, str]):
    with collector.client() as http:
        http.auth = None
        return http.post("/v1/webhooks/wx", params=query, content=body, headers={"content-type": "text/xml"})


def events(collector: RunningCollector) -> list[dict]:
    return [orjson.loads(n.state) for n in collector.platform.events.read(0, 10_000)]


def test_the_server_url_check_echoes_echostr_only_when_signed_with_the_token(collector: RunningCollector):
    with collector.client() as http:
        http.auth = None
        ok = http.get("/v1/webhooks/wx", params=signed() | {"echostr": "6813462751863154421"})
        wrong = http.get("/v1/webhooks/wx", params=signed("not-the-token") | {"echostr": "6813462751863154421"})
        unsigned = http.get("/v1/webhooks/wx", params={"echostr": "6813462751863154421"})
        markup = http.get("/v1/webhooks/wx", params=signed() | {"echostr": "<script>alert(1)</script>"})  # not what WeChat sends: never echoed
    assert (ok.status_code, ok.text, ok.headers["content-type"].split(";")[0]) == (200, "6813462751863154421", "text/plain")
    for refused in (wrong, unsigned, markup):
        assert refused.status_code == 404 and refused.json()["message"] == NO_SUBSCRIPTION_CHECK


def test_every_kind_of_push_is_stored_as_a_social_touchpoint_and_answered_success(collector: RunningCollector):
    pushes = [
        push("<CreateTime>1763802000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
             "<EventKey><![CDATA[qrscene_store_sh_0231]]></EventKey><Ticket><![CDATA[gQH47joAAAAAAAAAASxod]]></Ticket>"),
        push("<CreateTime>1763802060</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[快递太慢了，还没到]]></Content><MsgId>24587301928374655</MsgId>"),
        push("<CreateTime>1763802120</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MENU_ORDERS]]></EventKey>"),
        push("<CreateTime>1763802180</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event>"
             "<EventKey><![CDATA[https://shop.example.com/new]]></EventKey><MenuId>415</MenuId>"),
        push("<CreateTime>1763802240</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[parcel_insert_1125]]></EventKey>"),
        push("<CreateTime>1763802300</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[https://mmbiz.example/p.jpg]]></PicUrl><MsgId>24587301928374700</MsgId>"),
        push("<CreateTime>1763802360</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event>"),
        push("<CreateTime>1763802420</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>", openid="oQk2x5Yh0aZ3T1lP9mVb7cR4eXXX"),
        push("<CreateTime>1763802480</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><Status>success</Status>"),  # not a touchpoint
    ]  # fmt: skip
    answers = [post(collector, body, signed(nonce=str(n))) for n, body in enumerate(pushes)]
    again = post(collector, pushes[1], signed(nonce="99"))  # WeChat retries when the answer is late: stored once
    assert {(a.status_code, a.text, a.headers["content-type"].split(";")[0]) for a in [*answers, again]} == {(200, "success", "text/plain")}
    stored = events(collector)
    assert [(e["event_type"], e["source_kind"], e["source_name"]) for e in stored] == [
        (t, "social", "wx") for t in ("followed", "message_sent", "menu_clicked", "menu_clicked", "code_scanned", "message_sent", "unfollowed", "followed")
    ]
    assert {tuple(h.items()) for e in stored for h in e["identifiers"]["social"]} == {(("platform", "wechat"), ("handle", OPENID)), (("platform", "wechat"), ("handle", "oQk2x5Yh0aZ3T1lP9mVb7cR4eXXX"))}
    props = [e["properties"] for e in stored]
    assert {p["account"] for p in props} == {ACCOUNT} and {p["platform"] for p in props} == {"wechat"}
    assert (props[0]["scene"], props[1]["text"], props[2]["key"], props[3]["url"], props[4]["scene"], props[5]["message_type"]) == (
        "store_sh_0231", "快递太慢了，还没到", "MENU_ORDERS", "https://shop.example.com/new", "parcel_insert_1125", "image",
    )
    assert props[7]["scene"] is None and stored[0]["occurred_at"].startswith("2025-11-22T09:00:00")


def test_the_openid_is_the_followers_social_handle_through_the_projections(collector: RunningCollector):
    for n, fields in enumerate(["<CreateTime>1763802000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>",
                                "<CreateTime>1763802060</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[服务一般，不太满意]]></Content><MsgId>1</MsgId>"]):
        assert post(collector, push(fields), signed(nonce=str(n))).text == "success"
    platform = collector.platform
    platform.runner.run()
    (identity,) = platform.warehouse.query("SELECT customer_id FROM cdp.identities FINAL WHERE identifier = {i:String}", {"i": f"social:wechat:{OPENID}"})
    (answer,) = platform.warehouse.query("SELECT customer_id, category, topics FROM cdp.survey_answers FINAL WHERE kind = 'text'")
    assert (answer["customer_id"], answer["category"], list(answer["topics"])) == (identity["customer_id"], "negative", ["service"])


@pytest.mark.parametrize("query", [signed("not-the-token"), {}, {k: v for k, v in signed().items() if k != "signature"}, signed() | {"timestamp": "1763802001"}, signed(age_seconds=3600), signed(age_seconds=-3600), signed() | {"timestamp": "9" * 5000}])
def test_a_push_without_the_tokens_signature_is_refused_and_not_parsed(collector: RunningCollector, query: dict):
    answer = post(collector, push("<CreateTime>1763802000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"), query)
    assert answer.status_code == 401 and answer.json()["message"] == WEBHOOK_REFUSED
    assert events(collector) == [] and collector.platform.dead_letters.list() == []


def test_a_source_without_the_token_takes_no_push(collector: RunningCollector):
    key = collector.add_source("wx-open", "social", WECHAT.name)
    with collector.client(key) as http:  # not even with its write key: WeChat sends none, so a push must be signed
        answer = http.post("/v1/webhooks/wx-open", params=signed() | {"write_key": key}, content=push("<CreateTime>1</CreateTime><MsgType>event</MsgType><Event>subscribe</Event>"))
    assert answer.status_code == 401 and events(collector) == []


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<xml><ToUserName>gh_3f5a8c2e91d0</ToUserName><FromUserName>oQk2</FromUserName><CreateTime>1763802000</CreateTime><MsgType>text</MsgType><Content>&lol9;</Content><MsgId>7</MsgId></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<xml><ToUserName>gh_3f5a8c2e91d0</ToUserName><FromUserName>oQk2</FromUserName><CreateTime>1763802000</CreateTime><MsgType>text</MsgType><Content>&secret;</Content><MsgId>8</MsgId></xml>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_hostile_xml_is_refused_unexpanded_and_kept_as_sent(collector: RunningCollector, body: bytes):
    answer = post(collector, body, signed())
    assert (answer.status_code, answer.text) == (200, "success")  # acknowledged, so WeChat does not retry it: it is kept, not lost
    assert events(collector) == []
    (letter,) = collector.platform.dead_letters.list()
    assert letter.payload == body and letter.origin == "webhook:wechat-official-account#0"
    assert letter.reason == "wechat-official-account body: refused, a document type declaration or entity (DTDForbidden); WeChat sends none"
    report = replay(collector.platform)  # a replay reads the kept body as XML again, and refuses it again
    assert (report.stored, report.still_failing) == (0, [(letter.id, letter.reason)])


@pytest.mark.parametrize("body, reason", [
    (b"<xml><ToUserName>gh_1</ToUserName><Encrypt><![CDATA[a2V5]]></Encrypt></xml>", "Encrypt: an encrypted (safe mode) push"),
    (b"<xml><ToUserName>gh_1", "malformed XML"),
    (b"<html><body>hi</body></html>", "expected a <xml> document, got <html>"),
    (push("<MsgType>text</MsgType><Content>hi</Content>"), "CreateTime: Field required"),
])  # fmt: skip
def test_a_push_that_cannot_be_read_is_dead_lettered_with_why(collector: RunningCollector, body: bytes, reason: str):
    assert post(collector, body, signed()).text == "success"
    (letter,) = collector.platform.dead_letters.list()
    assert reason in letter.reason and letter.payload == body
