"""Tag definitions applied as versions (``projections.tags.definitions``): what each version sets
replaces what is in force, rules by tag name, and only the rules that differ are compared."""

from projections.lifecycle import LifecycleRules
from projections.tags.definitions import TagChange, changed_rules, in_force
from projections.tags.rules import TagRules

BIG = {"tag": "big", "all": [{"feature": "revenue", "op": ">=", "value": 1000}]}
BIGGER = {"tag": "big", "all": [{"feature": "revenue", "op": ">=", "value": 5000}]}


def test_versions_apply_in_order_over_the_configuration():
    configured = TagRules(active_days=60, rules=[{"tag": "mine", "all": [{"feature": "orders", "op": ">=", "value": 3}]}])
    first, second = TagChange(rules=[BIG], spend_window_days=180), TagChange.model_validate({"rules": [BIGGER], "active_days": 30})
    rules = in_force(configured, [first, second])
    assert (rules.active_days, rules.spend_window_days, rules.complaint_window_days) == (30, 180, 180)  # set, set, configured default
    assert [(r.tag, r.all[0].value) for r in rules.rules] == [("mine", 3), ("big", 5000)]
    assert in_force(configured, []) == configured


def test_a_change_is_stored_as_written():
    assert TagChange.model_validate({"active_days": 30, "rules": [BIG]}).as_data() == {"active_days": 30, "rules": [BIG]}


def test_only_differing_rules_are_compared():
    before = TagRules(rules=[BIG])
    before_rules, after_rules = changed_rules(before, in_force(before, [TagChange(rules=[BIGGER], active_days=30)]), LifecycleRules())
    assert [r.tag for r in after_rules] == ["active", "inactive", "big"]  # the built-ins that read active_days, and the changed one
    assert [(r.tag, r.all[-1].value) for r in before_rules] == [("active", 90), ("inactive", 90), ("big", 1000)]
    assert changed_rules(before, before, LifecycleRules()) == ([], [])
