"""Meta (Facebook Page) webhooks, ``feed`` field: comments, reactions and shares on a Page's posts.

Meta signs each delivery: ``X-Hub-Signature-256`` is ``sha256=`` + hex(HMAC-SHA256(app secret,
body)). One delivery batches ``entry[].changes[]``; each ``feed`` change with ``verb: add`` whose
item is a comment, reaction or share becomes ``commented``, ``liked`` or ``shared`` by the person
``value.from`` (their page-scoped id is the social handle on platform ``facebook``).

Before delivering, Meta verifies the callback URL with a ``GET`` carrying ``hub.mode=subscribe``,
``hub.verify_token`` (the token typed into the app dashboard: use the source's write key) and
``hub.challenge``, which must come back as the response body.
"""

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ingestion.sdk import SignedConnector, Touch, same


class Sender(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str | None = None


class FeedChange(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    item: str
    verb: str
    post_id: str | None = None
    comment_id: str | None = None
    reaction_type: str | None = None
    message: str | None = None
    created_time: datetime | int
    from_: Sender | None = Field(None, alias="from")


class PageFeedChange(BaseModel):
    page_id: str
    field: str
    value: FeedChange


_EVENT = {"comment": "commented", "reaction": "liked", "like": "liked", "share": "shared"}


class MetaPageFeed(SignedConnector):
    name = "meta-page-feed"
    tool = "Meta (Facebook Page) webhooks, feed field"
    source_kind = "social"
    Record = PageFeedChange
    examples = (
        {
            "object": "page",
            "entry": [{"id": "104719472500000", "time": 1763802000, "changes": [
                {"field": "feed", "value": {"item": "comment", "verb": "add", "post_id": "104719472500000_1228", "comment_id": "1228_5501",
                                             "message": "收到货了，质量很好！", "created_time": 1763802000,
                                             "from": {"id": "6823311000001", "name": "Li Na"}}},
                {"field": "feed", "value": {"item": "reaction", "verb": "add", "reaction_type": "love", "post_id": "104719472500000_1228",
                                             "created_time": 1763802060, "from": {"id": "6823311000002", "name": "Zhang Wei"}}}]}],
        },
    )  # fmt: skip

    def split(self, body: Any, headers: Mapping[str, str]) -> list[Any]:
        if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
            return [body]  # the payload model reports what is missing
        return [{"page_id": entry.get("id"), **change} for entry in body["entry"] if isinstance(entry, dict) for change in entry.get("changes", [])]

    def map(self, record: PageFeedChange) -> Iterator[Touch]:
        change = record.value
        event_type = _EVENT.get(change.item)
        if record.field != "feed" or change.verb != "add" or event_type is None or change.from_ is None:
            return  # edits, removals and the Page's own posts are not touchpoints
        who = {"social": [{"platform": "facebook", "handle": change.from_.id}]}
        key = f"{change.item}:{change.comment_id or change.post_id}:{change.from_.id}"
        properties: dict[str, Any] = {"platform": "facebook", "post_id": change.post_id}
        if event_type == "commented":
            properties["text"] = change.message or ""
        if change.reaction_type:
            properties["reaction"] = change.reaction_type
        traits = {"facebook_name": change.from_.name} if change.from_.name else {}
        yield Touch(key, event_type, change.created_time, who, properties, traits)

    def challenge(self, query: Mapping[str, str]) -> tuple[str, str] | None:
        if query.get("hub.mode") != "subscribe" or not query.get("hub.challenge"):
            return None
        return query.get("hub.verify_token", ""), query["hub.challenge"]

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        return same("sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), headers.get("x-hub-signature-256"))

    def sign(self, body: bytes, secret: str) -> dict[str, str]:
        return {"x-hub-signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}
