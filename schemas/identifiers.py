"""The identifiers a touchpoint can carry; identity resolution joins customers on them."""

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.personal import Personal

IdentifierText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9]{5,20}$")


def _email_shape(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not an email address (expected name@domain.tld)")
    return value.lower()


def _phone_shape(value: str) -> str:
    digits = re.sub(r"[\s().-]", "", value)
    if not _PHONE.match(digits):
        raise ValueError("not a phone number (expected 5-20 digits, optional leading +)")
    return digits


# checked inside the optional type, so the shape checks run for a value, not for every absent one
Email = Annotated[IdentifierText, AfterValidator(_email_shape)]
Phone = Annotated[IdentifierText, AfterValidator(_phone_shape)]


class SocialHandle(BaseModel):
    """A person's handle on one social platform (WeChat, Weibo, Douyin, X, LinkedIn, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=32, pattern=r"^[a-z0-9_.-]+$")]
    handle: Personal[IdentifierText]


class Identifiers(BaseModel):
    """Who the touchpoint is about. At least one person identifier is required.

    ``account_id`` names an enterprise account (company); it links a person to an account but is
    never used to join two people into one customer.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    anonymous_id: IdentifierText | None = None
    user_id: IdentifierText | None = None
    email: Personal[Email | None] = None
    phone: Personal[Phone | None] = None
    social: tuple[SocialHandle, ...] = Field(default=(), max_length=16)
    account_id: IdentifierText | None = None

    @model_validator(mode="after")
    def _someone(self) -> "Identifiers":
        if not (self.user_id or self.email or self.phone or self.social or self.anonymous_id):  # person_keys(), without a dump
            raise ValueError("at least one of anonymous_id, user_id, email, phone or social is required")
        return self

    def person_keys(self) -> list[str]:
        """The identifiers that name a person, as ``type:value`` keys, in a fixed order."""
        return person_keys(self.model_dump(mode="json"))


def person_keys(identifiers: dict) -> list[str]:
    """Person identifier keys (``type:value``) of an ``Identifiers`` in its JSON form."""
    keys = []
    for kind in ("user_id", "email", "phone"):
        value = identifiers.get(kind)
        if value is not None:
            keys.append(f"{kind}:{value}")
    keys.extend(f"social:{s['platform']}:{s['handle']}" for s in identifiers.get("social", ()))
    anonymous = identifiers.get("anonymous_id")
    if anonymous is not None:
        keys.append(f"anonymous_id:{anonymous}")
    return keys
