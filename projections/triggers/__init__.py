"""Triggers (journeys, light): declarative rules that turn a customer's events and projected state
into outbound actions (``projections.actions``), each with an id derived from its cause so it is
never sent twice (docs/triggers.md). Pure: no clock, no file, no configuration file."""

from projections.triggers.derive import Derived, Trigger, absorb_state, derive
from projections.triggers.rules import TriggerRule, TriggerRules

__all__ = ["Derived", "Trigger", "TriggerRule", "TriggerRules", "absorb_state", "derive"]
