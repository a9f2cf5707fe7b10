"""The built-in tags (docs/domain.md §3 data quality and activity, §5 tags, §6 classification).

They are ordinary rules, built from the thresholds in ``TagRules`` and ``LifecycleRules`` so a
number is configured in one place; a rule of your own with the same tag name replaces one.
"""

from projections.lifecycle import LifecycleRules
from projections.tags.rules import Condition, TagRule, TagRules


def _c(feature: str, op: str, value=None, within_days: int | None = None) -> Condition:
    return Condition(feature=feature, op=op, value=value, within_days=within_days)


def builtin_rules(tags: TagRules, lifecycle: LifecycleRules) -> list[TagRule]:
    active, (low, high), window = tags.active_days, tags.spend_levels, tags.spend_window_days
    promoter, detractor = lifecycle.promoter_min_score, lifecycle.detractor_max_score
    return [
        # §3 data quality and activity
        TagRule(tag="valid", description="Has a reachable identifier (email, phone or social handle) that is not blocked.", all=[_c("reachable", "==", True)]),
        TagRule(tag="invalid", description="No reachable identifier: anonymous only, or only test/placeholder identifiers.", all=[_c("reachable", "==", False)]),
        TagRule(tag="active", description=f"Valid, with a meaningful interaction in the last {active} days.", all=[_c("reachable", "==", True), _c("days_since_last_activity", "<", active)]),
        TagRule(tag="inactive", description=f"Valid, with no meaningful interaction for {active} days: the group to re-activate.", all=[_c("reachable", "==", True), _c("days_since_last_activity", ">=", active)]),
        # §5 behaviour and attitude
        TagRule(tag="spend_low", description=f"Bought in the last {window} days, less than {low}.", all=[_c("revenue", ">", 0, window), _c("revenue", "<", low, window)]),
        TagRule(tag="spend_medium", description=f"Spent {low} to under {high} in the last {window} days.", all=[_c("revenue", ">=", low, window), _c("revenue", "<", high, window)]),
        TagRule(tag="spend_high", description=f"Spent at least {high} in the last {window} days.", all=[_c("revenue", ">=", high, window)]),
        TagRule(tag="promoter", description=f"Latest NPS answer {promoter}-10.", all=[_c("last_nps", ">=", promoter)]),
        TagRule(tag="passive", description=f"Latest NPS answer between {detractor + 1} and {promoter - 1}.", all=[_c("last_nps", ">", detractor), _c("last_nps", "<", promoter)]),
        TagRule(tag="detractor", description=f"Latest NPS answer 0-{detractor}.", all=[_c("last_nps", "<=", detractor)]),
        TagRule(tag="complainer", description=f"Opened a complaint in the last {tags.complaint_window_days} days.", all=[_c("complaints", ">=", 1, tags.complaint_window_days)]),
        TagRule(tag="negative_voice", description=f"Negative free-text feedback or social text in the last {tags.complaint_window_days} days.", all=[_c("negative_feedback", ">=", 1, tags.complaint_window_days)]),
        TagRule(tag="one_time_buyer", description="Exactly one purchase.", all=[_c("orders", "==", 1)]),
        TagRule(tag="repeat_buyer", description="Two purchases or more (回购).", all=[_c("orders", ">=", 2)]),
        TagRule(tag="social_follower", description="Followed the brand on a social platform.", all=[_c("events.followed", ">=", 1)]),
        TagRule(tag="female", description="Declared gender female.", all=[_c("trait.gender", "in", ["female", "f", "woman", "女"])]),
        TagRule(tag="male", description="Declared gender male.", all=[_c("trait.gender", "in", ["male", "m", "man", "男"])]),
        *(TagRule(tag=f"age:{band}", description=f"Declared age band {band}.", all=[_c("trait.age_band", "==", band)]) for band in tags.age_bands),
        # §6 classification
        TagRule(tag="tier_ordinary", description="Ordinary customer (普通客户), by repurchases, amount and referrals.", all=[_c("tier", "==", "ordinary"), _c("orders", ">=", 1)]),
        TagRule(tag="tier_vip", description="VIP customer (贵宾客户).", all=[_c("tier", "==", "vip")]),
        TagRule(tag="tier_super", description="Super customer (超级客户).", all=[_c("tier", "==", "super")]),
        TagRule(tag="high_service_demand", description=f"At least {tags.high_service_tickets} service tickets in the last 365 days.", all=[_c("tickets", ">=", tags.high_service_tickets, 365)]),
        TagRule(tag="referrer", description="Referred at least one person.", all=[_c("referrals", ">=", 1)]),
        TagRule(tag="enterprise", description="Acts for an enterprise account (企业客户).", all=[_c("enterprise", "==", True)]),
        TagRule(tag="partner", description="Declared a partner customer (合作伙伴客户) by the customer_type trait.", all=[_c("trait.customer_type", "==", "partner")]),
    ]


def rule_set(tags: TagRules, lifecycle: LifecycleRules) -> list[TagRule]:
    """The effective rules: built-ins (if on), with your rules added or replacing by tag name."""
    own = {rule.tag: rule for rule in tags.rules}
    base = builtin_rules(tags, lifecycle) if tags.builtin else []
    return [own.pop(rule.tag, rule) for rule in base] + list(own.values())
