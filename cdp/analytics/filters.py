"""What narrows an analysis besides its dates: the customers of a segment, and a breakdown of events
by channel, source or campaign.

Both reach the SQL as fixed text plus server-side parameters: a segment is its compiled SQL (every
value a ``{pN:Type}`` parameter, ``cdp.segments.compiler``), a breakdown one expression chosen by
name from ``BREAKDOWNS``, never the caller's text.
"""

from dataclasses import dataclass
from typing import Any

from cdp.errors import CdpError
from cdp.segments.compiler import Compiled

# Where each breakdown is kept on an event (docs/domain.md; the Segment SDKs send a page's utm_*
# parameters as ``context.campaign``: utm_source as ``source``, utm_campaign as ``name``):
# channel: the source kind (website, social, sales, service, survey); source: utm_source;
# campaign: utm_campaign, or the ``campaign`` property a CRM lead carries. '' when an event has none.
# the breakdowns that read personal data (the event's context, or a property its payload may not
# declare): their values are a person's own text, shown only to a caller with pii:read
PERSONAL_BREAKDOWNS = frozenset({"source", "campaign"})
BREAKDOWNS: dict[str, str] = {
    "channel": "toString(source_kind)",
    "source": "JSONExtractString(context, 'campaign', 'source')",
    "campaign": "if(JSONExtractString(context, 'campaign', 'name') != '', JSONExtractString(context, 'campaign', 'name'), "
    "JSONExtractString(properties, 'campaign'))",
}


@dataclass(frozen=True)
class Members:
    """The current customers of a segment: a ``SELECT customer_id`` and its parameters."""

    sql: str
    params: dict[str, Any]

    @classmethod
    def of(cls, compiled: Compiled) -> "Members":
        return cls(compiled.customers_sql(), compiled.params)


def members_where(members: Members | None, customer: str) -> str:
    """A condition: the SQL expression ``customer`` is one of ``members`` (always true without a segment)."""
    return "1" if members is None else f"{customer} IN ({members.sql})"


def members_params(members: Members | None) -> dict[str, Any]:
    return {} if members is None else members.params


def breakdown_sql(breakdown: str | None, allowed: tuple[str, ...] = tuple(BREAKDOWNS)) -> str:
    """The event expression of ``breakdown`` (``''`` for none), refusing a name the analysis has no use for."""
    if breakdown is None:
        return "''"
    if breakdown not in allowed:
        raise CdpError(f"breakdown: expected one of {', '.join(allowed)}; got {breakdown[:50]!r}")
    return BREAKDOWNS[breakdown]
