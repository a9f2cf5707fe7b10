"""X (Twitter) API v2 mentions, saved as JSON Lines: one ``GET /2/users/:id/mentions`` response
page per line (``data`` tweets, ``includes.users`` with ``expansions=author_id``,
``tweet.fields=created_at``). Each tweet is ``mentioned`` by its author (handle on ``x``)."""

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from ingestion.sdk import Connector, Touch


class Tweet(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    text: str
    author_id: str
    created_at: datetime
    username: str | None = None  # joined from includes.users


class XMentions(Connector):
    name = "x-mentions"
    tool = "X API v2 user mentions timeline (JSON Lines of response pages)"
    source_kind = "social"
    Record = Tweet
    formats = ("jsonl",)
    examples = (
        {
            "data": [{"id": "1861000000000000001", "text": "@shop_example my parcel is late again", "author_id": "2244994945", "created_at": "2025-11-24T07:30:00.000Z"},
                     {"id": "1861000000000000002", "text": "Thanks @shop_example, great service!", "author_id": "783214", "created_at": "2025-11-24T08:00:00.000Z"}],
            "includes": {"users": [{"id": "2244994945", "name": "Li Na", "username": "lina_sh"}, {"id": "783214", "name": "X", "username": "zhangwei"}]},
            "meta": {"result_count": 2, "newest_id": "1861000000000000002", "oldest_id": "1861000000000000001"},
        },
    )  # fmt: skip

    def split(self, body: Any, headers: Mapping[str, str]) -> list[Any]:
        if not isinstance(body, dict) or "data" not in body:
            return [body]
        users = {u.get("id"): u.get("username") for u in body.get("includes", {}).get("users", []) if isinstance(u, dict)}
        return [{**t, "username": users.get(t.get("author_id"))} if isinstance(t, dict) else t for t in body["data"] or []]

    def map(self, tweet: Tweet) -> Iterator[Touch]:
        who = {"social": [{"platform": "x", "handle": tweet.username or tweet.author_id}]}
        yield Touch(tweet.id, "mentioned", tweet.created_at, who, {"platform": "x", "post_id": tweet.id, "text": tweet.text})
