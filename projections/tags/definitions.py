"""Tag definitions changed as data (``cdp tags apply``): a new tag, or new thresholds for the
built-in ones, recorded as versions on top of the configured ``TagRules``.

A change names only what it sets: the thresholds it gives replace the configured ones, and its
rules are added to (or replace, by tag name) the rules in force. Versions apply in order, so the
rules in force are the configuration followed by every version, and a rebuild reproduces them.
"""

from pydantic import BaseModel, ConfigDict, Field

from projections.lifecycle import LifecycleRules
from projections.tags.builtin import rule_set
from projections.tags.rules import TagRule, TagRules

THRESHOLDS = ("active_days", "spend_levels", "spend_window_days", "complaint_window_days", "high_service_tickets", "age_bands")


class TagChange(BaseModel):
    """What one version sets; a field left out keeps the value in force (see ``TagRules`` for each)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[TagRule] = Field(default=[], description="Tags to add, or to replace by tag name (built-in ones included).")
    active_days: int | None = Field(None, gt=0)
    spend_levels: tuple[float, float] | None = None
    spend_window_days: int | None = Field(None, gt=0)
    complaint_window_days: int | None = Field(None, gt=0)
    high_service_tickets: int | None = Field(None, gt=0)
    age_bands: list[str] | None = None

    def as_data(self) -> dict:
        """The change as its author would write it (what a version stores)."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def in_force(configured: TagRules, changes: list[TagChange]) -> TagRules:
    """The configured rules with every change applied in order. Raises ``ValidationError`` when the
    result is inconsistent (e.g. spend levels not ascending)."""
    data = configured.model_dump(exclude={"rules"})
    rules = {rule.tag: rule for rule in configured.rules}
    for change in changes:
        data.update(change.model_dump(include=set(THRESHOLDS), exclude_none=True))
        rules.update((rule.tag, rule) for rule in change.rules)
    return TagRules.model_validate({**data, "rules": list(rules.values())})


def changed_rules(before: TagRules, after: TagRules, lifecycle: LifecycleRules) -> tuple[list[TagRule], list[TagRule]]:
    """The effective rules that differ between two rule sets: ``(as before, as after)``, each in
    rule order; a tag new in ``after`` is only in the second list."""
    old = {rule.tag: rule for rule in rule_set(before, lifecycle)}
    new = rule_set(after, lifecycle)
    differing = [rule for rule in new if old.get(rule.tag) != rule]
    return [old[rule.tag] for rule in differing if rule.tag in old], differing

