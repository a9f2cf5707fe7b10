"""Triggers as configuration (docs/triggers.md): "when <a cause> and <conditions on the customer's
state> → <a destination, a template, a channel, a consent purpose>", with the frequency caps,
quiet hours, time zones, birthdays and holidays they share. Validated once; an invalid rule is
refused with the path of the field at fault (``rules.birthday_greeting.when.days_before``).

A rule does nothing until it is enabled (``cdp triggers enable NAME``), which records its start:
causes before it never fire unless a backfill asks for them (docs/triggers.md, "Never twice").
"""

from datetime import time
from typing import Annotated, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

from projections.lifecycle import Stage
from schemas import PAYLOAD_BY_EVENT_TYPE, SourceKind
from schemas.payloads.consent import PURPOSES

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
Channel = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)]
STAFF = "staff"  # the channel of alerts to the team: no consent purpose, no quiet hours
Tier = Literal["ordinary", "vip", "super"]
PurposeOrNone = Literal[(*PURPOSES, "")]  # "" for staff alerts only
Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventCause(_Strict):
    """An event of this type arrived (its log position is the cause)."""

    kind: Literal["event"]
    event_type: str

    @field_validator("event_type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in PAYLOAD_BY_EVENT_TYPE:
            raise ValueError(f"unknown event type {value!r}")
        return value


class LifecycleCause(_Strict):
    """The lifecycle stage changed to ``to_stage`` (from ``from_stage``, or from any stage)."""

    kind: Literal["lifecycle"]
    to_stage: Stage
    from_stage: Stage | None = None


class TagCause(_Strict):
    """A tag was gained (or lost)."""

    kind: Literal["tag"]
    tag: str = Field(min_length=1, max_length=64)
    change: Literal["gained", "lost"] = "gained"


class ComplaintCause(_Strict):
    """A complaint ticket went past its first-response (or resolution) SLA without one (``[service]``)."""

    kind: Literal["complaint_past_sla"]
    sla: Literal["response", "resolution"] = "response"


class ChurnCause(_Strict):
    """The churn risk level rose to ``to_level`` (judged at each day's end, UTC)."""

    kind: Literal["churn_raised"]
    to_level: Literal["medium", "high"] = "high"


class BirthdayCause(_Strict):
    """``days_before`` days before the customer's birthday (a trait of ``birthday_traits``), at midnight in their zone."""

    kind: Literal["birthday"]
    days_before: int = Field(0, ge=0, le=60)


class HolidayCause(_Strict):
    """``days_before`` days before a holiday of ``holidays``, at midnight in the customer's zone."""

    kind: Literal["holiday"]
    holiday: Name
    days_before: int = Field(0, ge=0, le=60)


class RevisitCause(_Strict):
    """``days_after`` days after each purchase, at the purchase's time of day (a periodic revisit, 定期回访)."""

    kind: Literal["revisit"]
    days_after: int = Field(gt=0, le=730)


_CAUSES = (EventCause, LifecycleCause, TagCause, ComplaintCause, ChurnCause, BirthdayCause, HolidayCause, RevisitCause)
KINDS = tuple(c.model_fields["kind"].annotation.__args__[0] for c in _CAUSES)


def _kind(value: object) -> str | None:
    return value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)


Cause = Annotated[
    Union[tuple(Annotated[c, Tag(k)] for c, k in zip(_CAUSES, KINDS, strict=True))],  # noqa: UP007
    Discriminator(_kind, custom_error_type="trigger_kind", custom_error_message=f"kind must be one of {', '.join(KINDS)}"),
]


class Conditions(_Strict):
    """What must hold of the customer's state when the cause fires; an empty list asks nothing."""

    stages: list[Stage] = Field(default=[], description="The lifecycle stage is one of these.")
    tiers: list[Tier] = Field(default=[], description="The value tier is one of these.")
    churn_levels: list[Literal["low", "medium", "high"]] = Field(default=[], description="The churn risk level is one of these.")
    tags_all: list[str] = Field(default=[], description="Holds every one of these tags.")
    tags_any: list[str] = Field(default=[], description="Holds at least one of these tags.")
    tags_none: list[str] = Field(default=[], description="Holds none of these tags.")
    traits: dict[str, Scalar | list[Scalar]] = Field(default={}, description="Trait equals the value (or is one of the list).")
    segment: Name | None = Field(default=None, description="Is a member of this saved segment: checked by the services at dry-run and send time, not here.")


class Route(_Strict):
    destination: Name
    channel: Channel


class Send(_Strict):
    """Where the action goes. ``by_preferred_channel`` picks another route by the customer's
    preferred channel (the source kind they interact through most, ``projections/traits.py``)."""

    destination: Name = Field(description="A configured destination's name.")
    channel: Channel = Field(description=f"What the frequency cap counts (email, sms, wechat, ...); {STAFF!r} for an alert to the team.")
    template: str = Field(default="", max_length=128, description="The template's name at the destination; empty sends the payload as is.")
    purpose: PurposeOrNone = Field(description=f"The consent purpose checked at send time; empty only for the {STAFF!r} channel.")
    by_preferred_channel: dict[SourceKind, Route] = {}

    @model_validator(mode="after")
    def _purpose_unless_staff(self) -> "Send":
        routes = [self.channel, *(r.channel for r in self.by_preferred_channel.values())]
        if self.purpose == "" and any(c != STAFF for c in routes):
            raise ValueError(f"a message to a customer needs a consent purpose; only the {STAFF!r} channel goes without")
        if self.purpose and STAFF in routes:
            raise ValueError(f"the {STAFF!r} channel alerts the team: its purpose must be empty")
        return self


class TriggerRule(_Strict):
    description: str = ""
    when: Cause
    where: Conditions = Conditions()
    then: Send


class Holiday(_Strict):
    month_day: str = Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description="MM-DD, e.g. 12-25.")
    years: list[int] = Field(default=[], description="Only these years (a moving feast such as the Spring Festival: one entry per date); empty: every year.")


class Cap(_Strict):
    count: int = Field(gt=0)
    days: int = Field(gt=0, le=365)


class QuietHours(_Strict):
    """No message to a customer from ``start`` to ``end`` in their own zone: it waits until ``end``."""

    start: time = time(21, 0)
    end: time = time(9, 0)


class TriggerRules(_Strict):
    """The ``[triggers]`` section: the rules (none by default) and what they share."""

    holidays: dict[Name, Holiday] = Field(default={}, description="Holidays a rule may name (when.kind = holiday).")
    rules: dict[Name, TriggerRule] = Field(default={}, description="Trigger rules by name; each does nothing until enabled (`cdp triggers enable NAME`).")
    frequency_caps: dict[Channel, Cap] = Field(default={}, description="At most count actions per customer per channel in any days-long window; a channel not listed has no cap.")
    quiet_hours: QuietHours | None = Field(default=QuietHours(), description="Quiet hours in the customer's zone (none: send at any hour); never for the staff channel.")
    default_time_zone: str = Field(default="UTC", description="The zone of a customer without a valid time-zone trait (an IANA name, e.g. Asia/Shanghai).")
    time_zone_traits: list[str] = Field(default=["timezone", "time_zone"], description="Traits read, in order, for a customer's IANA time zone.")
    birthday_traits: list[str] = Field(default=["birthday", "birth_date", "date_of_birth"], description="Traits read, in order, for a birthday (YYYY-MM-DD or MM-DD).")
    late_days: int = Field(default=3, gt=0, le=365, description="A cause first seen more than this many days after it happened is stale: nothing is sent for it.")

    @field_validator("default_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if zone_or_none(value) is None:
            raise ValueError(f"unknown time zone {value!r}")
        return value

    @field_validator("rules")
    @classmethod
    def _holidays_known(cls, rules: dict[str, TriggerRule], info: ValidationInfo) -> dict[str, TriggerRule]:
        holidays = info.data.get("holidays", {})
        for name, rule in rules.items():
            if isinstance(rule.when, HolidayCause) and rule.when.holiday not in holidays:
                raise ValueError(f"{name}.when.holiday: no holiday {rule.when.holiday!r} in holidays")
        return rules


def zone_or_none(name: object) -> ZoneInfo | None:
    if not isinstance(name, str) or not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
