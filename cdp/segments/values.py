"""Condition values checked against what the projections can store: a value no customer can hold is
refused with a "did you mean", instead of a segment that is silently empty.

The known values come from the projections' own definitions and the configured rules: lifecycle
stages, value tiers, churn levels, NPS categories, SLA states, sentiment labels, the configured
loyalty tiers and the configured tag rules' names (``known_values(settings)``).
"""

from dataclasses import dataclass
from typing import Any

from cdp.errors import Problem, SegmentInvalid
from cdp.segments.model import FieldCondition, Segment, TagCondition, conditions
from cdp.segments.problems import english
from cdp.segments.suggest import suggestions
from projections import churn, lifecycle, satisfaction, sentiment, service, value
from projections.tags.builtin import rule_set


@dataclass(frozen=True)
class KnownValues:
    fields: dict[str, tuple[str, ...]]  # text or list field → the values it (or its items) can hold
    tags: tuple[str, ...]


def known_values(settings: Any) -> KnownValues:
    """From ``cdp.config.Settings`` (its tag rules and loyalty tiers are configurable)."""
    tags = tuple(rule.tag for rule in rule_set(settings.tags, settings.lifecycle))
    return KnownValues(
        fields={
            "lifecycle_stage": lifecycle.STAGES,
            "tier": value.TIERS,
            "churn_level": churn.LEVELS,
            "nps_category": satisfaction.NPS_CATEGORIES,
            "sla_state": service.SLA_STATES,
            "last_sentiment": sentiment.LABELS,
            "loyalty_tier": tuple(settings.loyalty.tiers),
            "tags": tags,
        },
        tags=tags,
    )


def check_values(segment: Segment, known: KnownValues) -> Segment:
    """Returns ``segment``, or raises ``SegmentInvalid`` naming the first condition whose value is not known."""
    for path, node in conditions(segment.where, "where"):
        if isinstance(node, TagCondition) and node.tag not in known.tags:
            _refuse(f"{path}.tag", "no_tag", node.tag, known.tags)
        if isinstance(node, FieldCondition) and node.field in known.fields:
            values = known.fields[node.field]
            given = node.value if isinstance(node.value, list) else [node.value] if isinstance(node.value, str) else []
            for v in given:
                if v not in values:
                    _refuse(f"{path}.value", "no_value", v, values, field=node.field)
    return segment


def _refuse(path: str, code: str, given: str, known: tuple[str, ...], **more: str) -> None:
    params = {**more, "given": given, "suggestions": suggestions(given, known), "known": ", ".join(known)}
    text = english(code, params)
    raise SegmentInvalid(f"invalid segment: {path}: {text}", (Problem(path, code, params, text),))
