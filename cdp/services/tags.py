"""Tags as a use case: the rules in force, one tag with its holders, the definition history, a dry
run of a change and applying it, with every rule in one place for the CLI, HTTP and the console.

The rules: a change (a new tag, or new thresholds for the rules in force) is validated with errors
naming the field (``rules[0].all[1].op: ...``); reading and dry runs need ``profiles:read``,
applying needs ``admin``; a dry run's sample of customers reads masked without ``pii:read``; every
call is audited with its outcome. Applied changes are versions in ``cdp.tag_definitions``; applying
one recomputes the tag projection alone (``cdp.retag``), and a dry run computes the same from the
stored facts without writing (``cdp.tag_dry_run``). See docs/architecture.md.
"""

from __future__ import annotations  # the method ``list`` would shadow the type in the annotations after it

import time
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import yaml
from pydantic import ValidationError

from cdp.errors import CdpError
from cdp.masking import mask_profile
from cdp.platform import Platform
from cdp.refusals import refusal
from cdp.retag import ensure_settled, retag
from cdp.segments.model import problem_of
from cdp.services import Caller, NotFound
from cdp.services.audited import audited
from cdp.tag_dry_run import compare
from projections.tables import customer_tags
from projections.tags.builtin import rule_set
from projections.tags.definitions import TagChange, changed_rules, in_force
from projections.tags.rules import TagRule, TagRules
from schemas.errors import field_path

READ, WRITE = "profiles:read", "admin"
MAX_SAMPLE = 100  # customers a dry run shows per tag, gained and lost

Change = TagChange | Mapping[str, Any]  # parsed (the CLI read a file) or as sent (an HTTP body)


class TagDefinitionInvalid(CdpError):
    """A tag change that does not validate; the message names each field at fault."""


class TagService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform = platform
        self.caller = caller

    def list(self) -> list[dict[str, Any]]:
        """Every tag rule in force, in evaluation order, with where it comes from."""
        with self._audited(READ, "tags.list", "*"):
            rules = self._rules_in_force()
            origins = self._origins()
            return [{"tag": r.tag, "origin": origins.get(r.tag, "built-in"), "description": r.description, "conditions": _conditions(r)} for r in rule_set(rules, self.platform.settings.lifecycle)]

    def show(self, tag: str) -> dict[str, Any]:
        """One tag: its rule in force, how many customers hold it now, and the versions that defined it."""
        with self._audited(READ, "tags.read", tag[:100]):
            rules = {r.tag: r for r in rule_set(self._rules_in_force(), self.platform.settings.lifecycle)}
            if tag not in rules:
                raise refusal(NotFound, "no_tag_in_force", tag=tag[:100])
            rule = rules[tag]
            w = self.platform.warehouse
            held = w.query(f"SELECT count() AS n FROM `{w.database}`.`{customer_tags.TABLE.name}` FINAL WHERE has(tags, {{tag:String}})", {"tag": tag})[0]["n"]
            versions = [v.as_dict() for v in self.platform.tag_definitions.history() if any(r.tag == tag for r in v.change.rules)]
            return {
                "tag": tag, "origin": self._origins().get(tag, "built-in"), "description": rule.description, "conditions": _conditions(rule),
                "rule": rule.model_dump(mode="json", exclude_defaults=True), "customers": held, "versions": versions,
            }  # fmt: skip

    def history(self) -> list[dict[str, Any]]:
        """Every applied version, oldest first: what it set, when and by whom."""
        with self._audited(READ, "tags.history", "*"):
            return [v.as_dict() for v in self.platform.tag_definitions.history()]

    def dry_run(self, change: Change, sample: int = 10) -> dict[str, Any]:
        """Who would gain and who would lose each tag ``change`` touches, now and at the end of each of
        the last 12 months, against the rules in force; nothing is written."""
        with self._audited(READ, "tags.dry_run", "(definition)", {"sample": sample, "pii": self.caller.sees_personal_data}):
            if not 0 <= sample <= MAX_SAMPLE:
                raise refusal(CdpError, "tag_sample_range", given=sample, most=MAX_SAMPLE)
            parsed = parse_change(change)
            rules = self.platform.rules
            proposed = _proposed(rules.tags, parsed)
            _changes_something(rules.tags, proposed, rules)
            self.caller.may_test_personal_data(_trait_reads(changed_rules(rules.tags, proposed, rules.lifecycle)[1]))
            found = compare(self.platform.state, rules, proposed, sample)
            if not self.caller.sees_personal_data:
                for tag in found["tags"]:
                    if tag["now"] is not None:
                        for key in ("gain_sample", "lose_sample"):
                            tag["now"][key] = [mask_profile(row) for row in tag["now"][key]]
            return found

    def apply(self, change: Change) -> dict[str, Any]:
        """Records ``change`` as the next version and recomputes the tag projection alone from the
        stored facts (no batch runs meanwhile); answers the version, the tags changed and the time taken."""
        with self._audited(WRITE, "tags.apply", "(definition)") as detail:
            parsed = parse_change(change)
            platform = self.platform
            with platform.runner.lock:
                rules = platform.rules
                proposed = _proposed(rules.tags, parsed)
                tags = _changes_something(rules.tags, proposed, rules)
                ensure_settled(platform)  # before the version is recorded: recorded means recomputed
                saved = platform.tag_definitions.append(parsed, self.caller.actor)
                started = time.perf_counter()
                customers = retag(platform, platform.rules)
                seconds = round(time.perf_counter() - started, 3)
            detail.update(version=saved.version, tags=tags)
            return {"version": saved.version, "applied_at": saved.applied_at, "tags": tags, "customers": customers, "seconds": seconds}

    def _rules_in_force(self) -> TagRules:
        return self.platform.tag_definitions.rules(self.platform.settings.tags)

    def _origins(self) -> dict[str, str]:
        """Tag → where its rule comes from, when not built in: the configuration or the version that last set it."""
        origins = {rule.tag: "configuration" for rule in self.platform.settings.tags.rules}
        for version in self.platform.tag_definitions.history():
            origins.update((rule.tag, f"version {version.version}") for rule in version.change.rules)
        return origins

    @contextmanager
    def _audited(self, scope: str, action: str, target: str, detail: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Audited, and refused unless the caller holds ``scope`` (the refusal audited too)."""
        with audited(self.platform.audit, self.caller, action, target, detail) as found:
            self.caller.require(scope)
            yield found


def definitions_from_text(text: str, name: str, toml: bool) -> dict[str, Any]:
    """The mapping a definitions text holds (TOML, as ``[tags]`` in cdp.toml; else YAML or JSON), as
    the CLI reads a file and the console a form; its problems name ``name`` (the file, the field)."""
    try:
        data = tomllib.loads(text) if toml else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise refusal(TagDefinitionInvalid, "not_parsed", field=name, format="TOML" if toml else "YAML or JSON", detail=str(error).splitlines()[0]) from None
    if not isinstance(data, dict):
        raise refusal(TagDefinitionInvalid, "tags_not_mapping", field=name)
    return data


def parse_change(change: Change) -> TagChange:
    """Validates a change; raises ``TagDefinitionInvalid`` naming each field at fault."""
    if isinstance(change, TagChange):
        return change
    if not isinstance(change, Mapping):
        raise refusal(TagDefinitionInvalid, "change_not_mapping")
    try:
        return TagChange.model_validate(change)
    except ValidationError as error:
        raise _invalid(error) from None


def _proposed(rules: TagRules, change: TagChange) -> TagRules:
    try:
        return in_force(rules, [change])
    except ValidationError as error:
        raise _invalid(error) from None


def _changes_something(before: TagRules, after: TagRules, rules: Any) -> list[str]:
    """The tags whose rule changes; refused when none does."""
    tags = [rule.tag for rule in changed_rules(before, after, rules.lifecycle)[1]]
    if not tags:
        raise refusal(TagDefinitionInvalid, "changes_no_tag")
    return tags


def _trait_reads(changed: list[TagRule]) -> list[str]:
    """Where the changed rules read a trait (personal data): who gains a tag that tests
    ``trait.email`` is an oracle for the value behind the mask, as a segment's count is
    (``cdp.segments.personal``)."""
    return [
        f"tag {rule.tag}: {key}[{i}].feature {condition.feature}"
        for rule in changed for key in ("all", "any") for i, condition in enumerate(getattr(rule, key)) if condition.feature.startswith("trait.")
    ]


def _invalid(error: ValidationError) -> TagDefinitionInvalid:
    """The English message naming each field at fault, and each problem by pydantic's type for a door that words it (the console)."""
    invalid = TagDefinitionInvalid("invalid tag definitions: " + _problems(error))
    invalid.problems = tuple(problem_of(e) for e in error.errors(include_url=False))
    return invalid


def _problems(error: ValidationError, limit: int = 5) -> str:
    problems = [f"{field_path(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" if e["loc"] else e["msg"].removeprefix("Value error, ") for e in error.errors(include_url=False)]
    return "; ".join(problems[:limit]) + (f"; and {len(problems) - limit} more" if len(problems) > limit else "")


def _conditions(rule) -> str:
    """A rule's conditions as one line, e.g. ``revenue >= 500 (365 d) and orders >= 2``."""

    def one(c) -> str:
        window = f" ({c.within_days} d)" if c.within_days else ""
        value = "" if c.value is None else f" {c.value}"
        return f"{c.feature}{window} {c.op}{value}"

    parts = [" and ".join(one(c) for c in rule.all)] if rule.all else []
    if rule.any:
        parts.append("any of (" + " or ".join(one(c) for c in rule.any) + ")")
    return " and ".join(parts)
