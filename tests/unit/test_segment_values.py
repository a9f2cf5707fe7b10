"""Condition values no customer can hold are refused with a "did you mean", not a silent empty segment."""

import pytest

from cdp.config import Settings
from cdp.errors import SegmentInvalid
from cdp.segments.model import parse_segment
from cdp.segments.values import check_values, known_values
from projections.loyalty import LoyaltyRules
from projections.tags.rules import TagRules


def check(where: dict, settings: Settings | None = None):
    return check_values(parse_segment({"name": "s", "where": where}), known_values(settings or Settings()))


@pytest.mark.parametrize(
    "where, message",
    [
        ({"field": "tier", "op": "=", "value": "VIP"}, "where.value: tier has no value 'VIP'; did you mean 'vip'? (known: ordinary, vip, super)"),
        ({"all": [{"field": "revenue", "op": ">", "value": 1}, {"field": "lifecycle_stage", "op": "=", "value": "at risk"}]},
         "where.all[1].value: lifecycle_stage has no value 'at risk'; did you mean 'at_risk'?"),
        ({"field": "lifecycle_stage", "op": "in", "value": ["loyal", "Churned"]}, "where.value: lifecycle_stage has no value 'Churned'; did you mean 'churned'?"),
        ({"any": [{"not": {"tag": "promotor"}}]}, "where.any[0].not.tag: no tag 'promotor'; did you mean 'promoter'?"),
        ({"field": "churn_level", "op": "=", "value": "hight"}, "where.value: churn_level has no value 'hight'; did you mean 'high'?"),
        ({"field": "nps_category", "op": "!=", "value": "Promoters"}, "where.value: nps_category has no value 'Promoters'; did you mean 'promoter'?"),
        ({"field": "tags", "op": "contains_any", "value": ["valid", "Repeat Buyer"]}, "where.value: tags has no value 'Repeat Buyer'; did you mean 'repeat_buyer'?"),
        ({"field": "sla_state", "op": "=", "value": "late"}, "where.value: sla_state has no value 'late' (known: met, breached, pending)"),
    ],
)
def test_unknown_values_are_refused_with_a_suggestion(where: dict, message: str):
    with pytest.raises(SegmentInvalid) as refused:
        check(where)
    assert str(refused.value).startswith("invalid segment: " + message)
    assert "\n" not in str(refused.value)


def test_known_values_pass_and_come_from_the_configuration():
    check({"all": [{"field": "tier", "op": "=", "value": "vip"}, {"field": "lifecycle_stage", "op": "in", "value": ["at_risk", "churned"]}, {"tag": "promoter"}]})
    settings = Settings(loyalty=LoyaltyRules(tiers={"member": 0, "gold": 1000}), tags=TagRules(rules=[{"tag": "big_spender", "all": [{"feature": "orders", "op": ">=", "value": 9}]}]))
    check({"all": [{"field": "loyalty_tier", "op": "=", "value": "gold"}, {"tag": "big_spender"}]}, settings)
    with pytest.raises(SegmentInvalid, match=r"^invalid segment: where.value: loyalty_tier has no value 'Gold '; did you mean 'gold'\? \(known: member, gold\)$"):
        check({"field": "loyalty_tier", "op": "=", "value": "Gold "}, settings)
    with pytest.raises(SegmentInvalid, match=r"no tag 'big_spendr'; did you mean 'big_spender'"):
        check({"tag": "big_spendr"}, settings)


@pytest.mark.parametrize(
    "where, message",
    [
        ({"field": "tire", "op": "=", "value": "vip"}, "where.field: unknown field 'tire'; did you mean 'tier'?"),
        ({"consent": "email marketing"}, "where.consent: no purpose 'email marketing'; did you mean 'email_marketing'?"),
        ({"field": "revenue", "op": ">=", "value": "500"}, "where.value: revenue >= takes a number"),
    ],
)
def test_field_names_purposes_and_types_are_checked_when_parsed(where: dict, message: str):
    with pytest.raises(SegmentInvalid) as refused:
        parse_segment({"name": "s", "where": where})
    assert str(refused.value).startswith("invalid segment: " + message)


def test_event_properties_keep_their_json_type():
    segment = parse_segment({"name": "s", "where": {"event": "order_placed", "properties": {"gift": True, "paid": "true", "n": 5, "x": 5.5}}})
    values = segment.where.properties
    assert values == {"gift": True, "paid": "true", "n": 5, "x": 5.5}
    assert [type(v) for v in values.values()] == [bool, str, int, float]
