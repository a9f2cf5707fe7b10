"""Masks personal data in read results for callers without the ``pii:read`` scope.

What is personal comes from the schemas and tables, not from a list kept here: warehouse columns
documented as "Personal data" (emails, phones, social handles, traits, context, ...) and what
``schemas.personal.public_view`` does not show of the properties: fields typed ``Personal[...]``
(free text such as review, ticket and survey comments), properties a payload does not declare
(payloads accept extra ones, which may hold anything), and the personal parts of URLs (a page's
query string, a referrer's path: ``https://shop.example.com/cart?***``). A masked value keeps its
shape (a list keeps its length, an object its keys) so clients need no special case.
"""

from typing import Any

import orjson

from projections.tables import events, profiles
from projections.tables.table import Table
from schemas import PAYLOAD_BY_EVENT_TYPE
from schemas.personal import public_view

MASK = "***"
_JSON_COLUMNS = frozenset({"traits", "context", "properties"})  # String columns holding a JSON object


def personal_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if "Personal data" in c.doc)


PROFILE_PERSONAL = personal_columns(profiles.TABLE)
EVENT_PERSONAL = personal_columns(events.TABLE)


def mask_profile(row: dict[str, Any]) -> dict[str, Any]:
    """A profile (or segment member) row with its personal columns masked."""
    return {name: _masked_column(name, value) if name in PROFILE_PERSONAL else value for name, value in row.items()}


def mask_event(row: dict[str, Any]) -> dict[str, Any]:
    """An event row with its personal columns and the personal fields of its properties masked."""
    masked = {name: _masked_column(name, value) if name in EVENT_PERSONAL else value for name, value in row.items()}
    if isinstance(row.get("properties"), str):
        properties = orjson.loads(row["properties"])
        if isinstance(properties, dict):
            payload = PAYLOAD_BY_EVENT_TYPE.get(row.get("event_type", ""))
            masked["properties"] = orjson.dumps(public_view(payload, properties, mask) if payload else mask(properties)).decode()
    return masked


def mask_suppression(row: dict[str, Any]) -> dict[str, Any]:
    """A ``suppressions`` row with its identifier's value (the table holds identifier values:
    personal data) and its free-text note masked; the identifier keeps its type (``email:***``)."""
    kind, _, value = row["identifier"].partition(":")
    return {**row, "identifier": f"{kind}:{mask(value)}", "note": mask(row["note"])}


SENTIMENT_TERMS = frozenset({"terms", "last_sentiment_terms"})  # lexicon terms found in a person's free text quote it


def mask_sentiment_terms(row: dict[str, Any]) -> dict[str, Any]:
    """A ``survey_answers`` or ``customer_satisfaction`` row with the terms quoted from free text masked."""
    return {name: mask(value) if name in SENTIMENT_TERMS else value for name, value in row.items()}


def mask(value: Any) -> Any:
    if value is None or value == "":
        return value
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    return MASK


def _masked_column(name: str, value: Any) -> Any:
    if name in _JSON_COLUMNS and isinstance(value, str) and value.startswith("{"):
        return orjson.dumps(mask(orjson.loads(value))).decode()
    return mask(value)

