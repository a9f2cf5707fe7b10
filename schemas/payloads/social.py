"""Social media touchpoints (社交媒体): WeChat, Weibo, Douyin, X, LinkedIn, ..."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from schemas.payloads.base import Code, Name, Payload
from schemas.payloads.website import Url
from schemas.personal import Personal, PersonalAfterPath

Sentiment = Literal["positive", "neutral", "negative"]
Text = Annotated[str, Field(max_length=20_000)]


class SocialPayload(Payload):
    platform: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=32, pattern=r"^[a-z0-9_.-]+$")]
    post_id: Code | None = None
    account: Code | None = Field(default=None, description="The brand's own account the touchpoint reached, where it has several (a WeChat account's original id, gh_...).")


class Followed(SocialPayload):
    event_type = "followed"
    source_kind = "social"
    scene: Code | None = Field(default=None, description="The scene of the brand's QR code the person scanned to follow (a poster, a shop counter, a parcel insert).")


class Unfollowed(SocialPayload):
    event_type = "unfollowed"
    source_kind = "social"


class CodeScanned(SocialPayload):
    """A follower scanned one of the brand's QR codes that carries a scene."""

    event_type = "code_scanned"
    source_kind = "social"
    scene: Code | None = None


class MenuClicked(SocialPayload):
    """The person tapped an item of the brand account's menu: a key the account answers, or a link it opens."""

    event_type = "menu_clicked"
    source_kind = "social"
    key: Name | None = None
    url: PersonalAfterPath[Url | None] = None


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


PAYLOADS = (Followed, Unfollowed, CodeScanned, MenuClicked, Liked, Shared, Commented, Mentioned, MessageSent)
