"""The identifiers a touchpoint can carry; identity resolution joins customers on them."""

import re
from collections.abc import Iterable, Iterator
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.personal import Personal

PersonIdType = Literal["user_id", "email", "phone", "social", "anonymous_id"]
# The identifier types that name a person (and can join customers), in the order of ``person_keys``:
# the one list identity rules, lookups by identifier and the profile's identifier sets are built from.
PERSON_ID_TYPES: tuple[str, ...] = get_args(PersonIdType)

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

    def person_keys(self) -> Iterator[str]:
        """The identifiers that name a person, as ``type:value`` keys, in a fixed order (lazily: a caller after the first that joins stops early)."""
        return _person_keys(self.user_id, self.email, self.phone, ((s.platform, s.handle) for s in self.social), self.anonymous_id)


# Every identifier type a touchpoint can carry: the person's, then the account (``Identifiers``' fields).
ID_TYPES: tuple[str, ...] = tuple(Identifiers.model_fields)


def person_keys(identifiers: dict) -> list[str]:
    """Person identifier keys (``type:value``) of an ``Identifiers`` in its JSON form."""
    social = ((s["platform"], s["handle"]) for s in identifiers.get("social", ()))
    return list(_person_keys(identifiers.get("user_id"), identifiers.get("email"), identifiers.get("phone"), social, identifiers.get("anonymous_id")))


def _person_keys(user_id: str | None, email: str | None, phone: str | None, social: Iterable[tuple[str, str]], anonymous_id: str | None) -> Iterator[str]:
    if user_id is not None:
        yield f"user_id:{user_id}"
    if email is not None:
        yield f"email:{email}"
    if phone is not None:
        yield f"phone:{phone}"
    for platform, handle in social:
        yield f"social:{platform}:{handle}"
    if anonymous_id is not None:
        yield f"anonymous_id:{anonymous_id}"
