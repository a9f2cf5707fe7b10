"""WeChat Official Account (微信公众号) message and event pushes, in plain-text mode (明文模式).

WeChat POSTs each message a follower sends and each event (follow, unfollow, menu tap, QR code
scan) as an XML document to the account's server URL, and wants ``success`` back within five
seconds, or it retries and tells the follower the account is unavailable. It signs every request
in the query: ``signature`` is the hex SHA-1 of the account's token, ``timestamp`` and ``nonce``
sorted and joined; the token is the source's signing secret. Before the URL is accepted, WeChat
sends a ``GET`` with the same signature and an ``echostr`` to echo. The signature does not cover
the body (WeChat's design in plain-text mode), so a query is taken only within five minutes of its
timestamp: one seen in a log cannot post bodies for ever. Safe mode (AES-encrypted bodies) is not
supported, and its deliveries are dead-lettered saying so.

The XML is hostile until parsed: a document type declaration is refused outright, so no entity
expansion (billion laughs) and no external entity is ever resolved.

Mapping, the follower's OpenID as their social handle on ``wechat`` and the account's original
id (``gh_...``) as ``account``: ``subscribe`` → ``followed`` (with the QR code's scene when they
followed by scanning one, ``qrscene_...``), ``unsubscribe`` → ``unfollowed``, ``SCAN`` (a follower
scanned a QR code with a scene) → ``code_scanned``, menu ``CLICK`` and ``VIEW`` → ``menu_clicked``
(its key, or the link it opened), and a message → ``message_sent`` (its text, or its kind for an
image, voice, video, location or link). Other events (location reports, template deliveries) are
not the follower's touchpoints and give no event.
"""

import hashlib
import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pydantic import BaseModel, ConfigDict, Field

from ingestion.sdk import QuerySignedConnector, Touch, same
from ingestion.validation import Invalid

PLATFORM = "wechat"
SCENE_PREFIX = "qrscene_"  # EventKey of a subscribe by scanning a QR code with a scene
MAX_SKEW_SECONDS = 300  # a signed query's timestamp this far from now at most
_ECHO = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # what WeChat sends as echostr; anything else is not echoed
_MESSAGES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})


class WeChatPush(BaseModel):
    """One push: the XML document's fields by tag name."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    account: str = Field(alias="ToUserName", min_length=1, max_length=64)
    openid: str = Field(alias="FromUserName", min_length=1, max_length=128)
    created: int = Field(alias="CreateTime", ge=0, le=4_102_444_800)  # seconds, up to 2100
    msg_type: str = Field(alias="MsgType", min_length=1, max_length=32)
    event: str | None = Field(None, alias="Event")
    event_key: str | None = Field(None, alias="EventKey")
    content: str | None = Field(None, alias="Content")
    msg_id: str | None = Field(None, alias="MsgId", max_length=64)


def _xml(fields: str) -> bytes:
    return f"<xml><ToUserName><![CDATA[gh_3f5a8c2e91d0]]></ToUserName><FromUserName><![CDATA[oQk2x5Yh0aZ3T1lP9mVb7cR4eU8s]]></FromUserName>{fields}</xml>".encode()


class WeChatOfficialAccount(QuerySignedConnector):
    name = "wechat-official-account"
    tool = "WeChat Official Account message and event pushes (XML, plain-text mode)"
    source_kind = "social"
    Record = WeChatPush
    formats = ("webhook",)
    acknowledgement = "success"
    examples = (
        _xml("<CreateTime>1763802000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
             "<EventKey><![CDATA[qrscene_store_sh_0231]]></EventKey><Ticket><![CDATA[gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2]]></Ticket>"),
        _xml("<CreateTime>1763802060</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[请问这件外套有大一号的吗？]]></Content>"
             "<MsgId>24587301928374655</MsgId>"),
        _xml("<CreateTime>1763802120</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MENU_ORDERS]]></EventKey>"),
        _xml("<CreateTime>1763802180</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event>"
             "<EventKey><![CDATA[https://shop.example.com/new?from=wechat]]></EventKey><MenuId>415</MenuId>"),
        _xml("<CreateTime>1763802240</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event>"
             "<EventKey><![CDATA[parcel_insert_1125]]></EventKey><Ticket><![CDATA[gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2]]></Ticket>"),
        _xml("<CreateTime>1763802300</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event>"),
    )  # fmt: skip

    def decode(self, data: bytes, max_bytes: int) -> Any:
        if len(data) > max_bytes:
            raise Invalid(f"(body): {len(data):,} bytes; the limit is {max_bytes:,}")
        try:
            root = fromstring(data, forbid_dtd=True)
        except DefusedXmlException as error:
            raise Invalid(f"{self.name} body: refused, a document type declaration or entity ({type(error).__name__}); WeChat sends none") from None
        except ParseError as error:
            raise Invalid(f"{self.name} body: malformed XML ({error})") from None
        if root.tag != "xml":
            raise Invalid(f"{self.name} body: expected a <xml> document, got <{root.tag[:64]}>")
        fields = {child.tag: (child.text or "").strip() for child in root}
        if "Encrypt" in fields and "MsgType" not in fields:
            raise Invalid(f"{self.name} body: Encrypt: an encrypted (safe mode) push; set the account's message encryption to plain text (明文模式)")
        return fields

    def map(self, record: WeChatPush) -> Iterator[Touch]:
        at = datetime.fromtimestamp(record.created, UTC)
        who = {"social": [{"platform": PLATFORM, "handle": record.openid}]}
        common = {"platform": PLATFORM, "account": record.account}
        if record.msg_type in _MESSAGES:
            text = {"text": record.content or ""} if record.msg_type == "text" else {"message_type": record.msg_type}
            yield Touch(f"msg:{record.msg_id or f'{record.openid}:{record.created}'}", "message_sent", at, who, common | text)
            return
        mapped = _event(record.event, record.event_key or "") if record.msg_type == "event" and record.event else None
        if mapped is not None:  # WeChat's advice: an event is told apart by follower and time
            yield Touch(f"{record.event.lower()}:{record.openid}:{record.created}", mapped[0], at, who, common | mapped[1])

    def challenge(self, query: Mapping[str, str]) -> tuple[str, str] | None:
        echo = query.get("echostr", "")
        return ("", echo) if _ECHO.match(echo) else None

    def verify_query(self, query: Mapping[str, str], secret: str) -> bool:
        """The signature, made within ``MAX_SKEW_SECONDS`` of now: it does not cover the body, so a
        query seen once (a proxy's log, the subscription check) would otherwise post any body for ever."""
        timestamp, nonce = query.get("timestamp"), query.get("nonce")
        if not secret or not timestamp or not nonce or not _fresh(timestamp):
            return False
        return same(_signature(secret, timestamp, nonce), query.get("signature"))

    def sign_query(self, secret: str, timestamp: str, nonce: str) -> dict[str, str]:
        return {"signature": _signature(secret, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def _fresh(timestamp: str) -> bool:
    return timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12 and abs(time.time() - int(timestamp)) <= MAX_SKEW_SECONDS


def _event(event: str, key: str) -> tuple[str, dict[str, Any]] | None:
    """The event type and properties of an event push, or None for one that is not the follower's touchpoint."""
    if event == "subscribe":
        return "followed", {"scene": key.removeprefix(SCENE_PREFIX) if key.startswith(SCENE_PREFIX) else None}
    if event == "unsubscribe":
        return "unfollowed", {}
    if event == "SCAN":
        return "code_scanned", {"scene": key or None}
    if event == "CLICK":
        return "menu_clicked", {"key": key or None}
    if event == "VIEW":
        return "menu_clicked", {"url": key or None}
    return None


def _signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's: the hex SHA-1 of the three sorted and joined."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()
