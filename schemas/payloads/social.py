"""Social media touchpoints (社交媒体): WeChat, Weibo, Douyin, X, LinkedIn, ..."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from schemas.payloads.base import Code, Name, Payload
from schemas.personal import Personal

Sentiment = Literal["positive", "neutral", "negative"]
Text = Annotated[str, Field(max_length=20_000)]


class SocialPayload(Payload):
    platform: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=32, pattern=r"^[a-z0-9_.-]+$")]
    post_id: Code | None = None


class Followed(SocialPayload):
    event_type = "followed"
    source_kind = "social"


class Liked(SocialPayload):
    event_type = "liked"
    source_kind = "social"


class Shared(SocialPayload):
    event_type = "shared"
    source_kind = "social"


class Commented(SocialPayload):
    event_type = "commented"
    source_kind = "social"
    text: Personal[Text] = ""
    sentiment: Sentiment | None = None


class Mentioned(SocialPayload):
    event_type = "mentioned"
    source_kind = "social"
    text: Personal[Text] = ""
    sentiment: Sentiment | None = None


class MessageSent(SocialPayload):
    """A direct message from the person to the brand's account."""

    event_type = "message_sent"
    source_kind = "social"
    text: Personal[Text] = ""
    sentiment: Sentiment | None = None
    topic: Name | None = None


PAYLOADS = (Followed, Liked, Shared, Commented, Mentioned, MessageSent)
