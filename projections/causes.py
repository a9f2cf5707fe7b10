"""Why a projection decided something, as a code with its parameters: the lifecycle's transition
causes, the churn score's reasons (now and in its history) and the identity's merges.

A reducer gives a ``Cause``; ``english`` renders it in the words the warehouse's text columns
(``lifecycle_transitions.cause``, ``churn_risk.reasons``, ``churn_level_changes.reasons``,
``customer_merges.reason``) have always held, for BI tools and the CLI. The code and its parameters are stored next to that text, so the console can word the same
cause in the reader's language (its catalogues' ``cause.<code>``, docs/console.md "Languages").
``ENGLISH`` is every code a projection can give: a code missing here fails at its first use.
"""

from dataclasses import dataclass
from typing import Any

import orjson

ENGLISH: dict[str, str] = {
    # lifecycle stages (projections/lifecycle.py)
    "prospect": "known, no purchase yet",
    "prospect_first_event": "known, no purchase yet (first event: {events})",
    "inactive": "no interaction for {days} days",
    "p_alive_below": "P(alive) {p_alive:.3f} below {threshold} (model {model})",
    "no_purchase_for": "no purchase for {days} days",
    "won_back": "purchase after churn",
    "loyal_purchases": "{purchases} purchases in {days} days",
    "loyal_promoter": "repeat buyer and promoter (NPS {nps})",
    "repeat": "{purchases} purchases",
    "first_purchase": "first purchase",
    # both: the lifecycle's at-risk causes and churn warning signs (projections/churn.py)
    "detractor": "detractor (NPS {nps})",
    "complaint_past_sla": "complaint {ticket} unresolved past {hours}h SLA",
    # churn warning signs
    "purchase_gap": "no purchase since {since} (at risk after {days} days)",
    "falling_frequency": "purchases fell from {before} to {recent} per {days} days",
    "quiet": "no interaction since {since} (quiet after {days} days)",
    "recent_complaint": "complaint in the last {days} days",
    "negative_feedback": "negative feedback in the last {days} days",
    # identity (projections/identity.py): ``id_types`` is a list of identifier types, in the order they linked
    "named_both": "event {event} named identifiers of both ({id_types})",
}

WEIGHT = "weight"  # a churn reason's parameter: its weight in the score, written after the words as "(+25)"


@dataclass(frozen=True, slots=True)
class Cause:
    code: str  # a key of ENGLISH
    params: dict[str, Any]  # JSON values: numbers, texts (a date as its ISO text), lists of texts


def cause(code: str, **params: Any) -> Cause:
    return Cause(code, params)


def english(c: Cause) -> str:
    """The cause in the words of the warehouse's text columns, e.g. ``detractor (NPS 3) (+25)``."""
    text = filled(ENGLISH[c.code], c.params)
    return f"{text} (+{c.params[WEIGHT]})" if WEIGHT in c.params else text


def filled(words: str, params: dict[str, Any]) -> str:
    """English words with their parameters in place, a list as its items joined by ", "."""
    return words.format(**{name: ", ".join(map(str, v)) if isinstance(v, list | tuple) else v for name, v in params.items()})


def params_json(params: dict[str, Any]) -> str:
    """A cause's parameters as the warehouse stores them: JSON with sorted keys, so a row is the same wherever it is built."""
    return orjson.dumps(params, option=orjson.OPT_SORT_KEYS).decode()
