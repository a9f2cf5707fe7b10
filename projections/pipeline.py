"""One batch through every projection: pure, so any runner (embedded, faust) gives the same rows.

The runner loads state, calls ``identity.resolve`` then ``Pipeline.project``, writes
``Output.rows`` to the warehouse, and saves ``Output``'s state changes with the batch's log
position in one transaction. Per batch, each customer the batch touches (or whose next
time-driven change is due) is recomputed once, whatever the number of its events.
"""

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import orjson

from projections import consent_rows, history_tables
from projections.actions import Action
from projections.churn import ChurnRules, churn_risk
from projections.churn_history import level_changes
from projections.identity import IdentityRules, Resolution
from projections.lifecycle import LifecycleRules, lifecycle
from projections.loyalty import LoyaltyRules, loyalty
from projections.profile import Profile, ProfileRules, Said, absorb, apply, churn_changes, empty_profile, lifecycle_facts, redemptions
from projections.satisfaction import SatisfactionRules, csi, nps_category, satisfaction
from projections.service import ServiceRules, tickets
from projections.tables import (
    churn_level_changes,
    churn_risk as churn_table,
    customer_loyalty,
    customer_merges,
    customer_satisfaction,
    customer_service,
    customer_tags,
    customer_traits,
    customer_value,
    events,
    identities,
    identity_refusals,
    lifecycle_transitions,
    survey_answers,
    tag_changes,
)
from projections.tables import profiles as profile_table
from projections.tables import tickets as ticket_table
from projections.tables.table import Table, blank_row
from projections.tags.builtin import rule_set
from projections.tags.compiler import CompiledTags
from projections.tags.features import Context, context
from projections.tags.history import replay
from projections.tags.rules import TagRules
from projections.topics import topics
from projections.touchpoint import Touchpoint
from projections.traits import computed_traits
from projections.triggers import Trigger, TriggerRules, absorb_state, derive
from projections.value import ValueRules, tier, value

CUSTOMER_TABLES: tuple[Table, ...] = (
    customer_traits.TABLE, customer_tags.TABLE, customer_value.TABLE, customer_satisfaction.TABLE,
    customer_service.TABLE, churn_table.TABLE, customer_loyalty.TABLE,
)


class Rules(Protocol):
    """Every projection's rules (``projections.rules.ProjectionRules``; ``cdp.config.Settings`` is one too)."""

    identity: IdentityRules
    lifecycle: LifecycleRules
    profile: ProfileRules
    tags: TagRules
    value: ValueRules
    satisfaction: SatisfactionRules
    service: ServiceRules
    churn: ChurnRules
    loyalty: LoyaltyRules
    triggers: TriggerRules


@dataclass
class Output:
    profiles: dict[str, Profile] = field(default_factory=dict)  # changed states, to save
    removed: set[str] = field(default_factory=set)  # customers merged away, to delete
    next_checks: dict[str, int | None] = field(default_factory=dict)  # when to re-evaluate each customer
    rows: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))  # table name → rows
    actions: list[Action] = field(default_factory=list)  # what the enabled triggers call for (projections/triggers)


class Pipeline:
    """The projections with their rules; tag rules are compiled once, here. ``triggers``: the
    enabled trigger rules (a runner may replace them between batches)."""

    def __init__(self, rules: Rules, triggers: Sequence[Trigger] = ()):
        self.rules = rules
        self.triggers = tuple(triggers)
        self.tags = CompiledTags(rule_set(rules.tags, rules.lifecycle))
        self._tier_of = partial(tier, rules=rules.value)
        self._reads = frozenset(name for name, _ in self.tags.keys)

    def project(self, loaded: dict[str, Profile], resolution: Resolution, touchpoints: list[Touchpoint], recheck: set[str], as_of: int, version: int) -> Output:
        """Applies a resolved batch to the loaded profiles.

        ``loaded`` holds the saved state of every customer the batch names (assigned, merged) and of
        ``recheck``, the customers whose projections may have changed with time up to ``as_of`` (ms).
        ``version`` is the log position of the batch's last event.
        """
        out = Output()
        rows = out.rows
        state = dict(loaded)
        for merge in resolution.merges:
            absorbed = self.retire(state, merge.absorbed, merge.survivor, version, out)
            survivor = state.setdefault(merge.survivor, empty_profile(merge.survivor))
            if absorbed is not None:
                absorb(survivor, absorbed)
                absorb_state(survivor, absorbed)  # the triggers' decisions (projections/triggers)
        identity_rows(resolution, rows)
        survivors = {m.survivor for m in resolution.merges}
        self.update(state, touchpoints, resolution.assignments, survivors | recheck, as_of, version, out)
        return out

    def retire(self, state: dict[str, Profile], customer: str, survivor: str, version: int, out: Output) -> Profile | None:
        """Takes a customer merged into ``survivor`` out of ``state`` and withdraws its rows; returns its state (None if it had none)."""
        absorbed = state.pop(customer, None)
        if absorbed is not None:
            self._retract(absorbed, customer, version, out.rows)
        out.removed.add(customer)
        out.rows[profile_table.TABLE.name].append(profile_table.tombstone(customer, survivor, version))
        return absorbed

    def update(self, state: dict[str, Profile], touchpoints: list[Touchpoint], customer_of: dict[int, str], touched: set[str], as_of: int, version: int, out: Output) -> None:
        """Folds events (``customer_of``: position → customer) into ``state``, then recomputes every
        customer they changed, and those of ``touched`` held in ``state`` (absorbed into, or due a
        time-driven check), as of ``as_of``."""
        rows = out.rows
        earliest: dict[str, int] = {}
        batch_events: dict[str, list[Touchpoint]] = defaultdict(list)  # for the triggers
        for tp in touchpoints:
            customer = customer_of[tp.position]
            if self.triggers:
                batch_events[customer].append(tp)
            if customer not in state:
                state[customer] = empty_profile(customer)
            said = apply(state[customer], tp, self.rules.profile)
            rows[events.TABLE.name].append(events.row(tp, customer))
            self._answer_rows(tp, customer, said, rows)
            ms = tp.occurred_ms
            if ms < earliest.get(customer, ms + 1):
                earliest[customer] = ms
        changed = {customer_of[tp.position] for tp in touchpoints} | (touched & state.keys())
        for customer in sorted(changed - out.removed):
            profile = state[customer]
            out.next_checks[customer] = self._update(profile, earliest.get(customer), as_of, version, rows)
            if self.triggers:
                self._derive_actions(profile, batch_events.get(customer, []), as_of, out)
            rows[profile_table.TABLE.name].append(profile_table.row(profile, version, as_of))
            out.profiles[customer] = profile

    def _derive_actions(self, profile: Profile, batch_events: list[Touchpoint], as_of: int, out: Output) -> None:
        """The triggers' actions for one customer; their next time-driven cause joins its next check."""
        derived = derive(profile, self.triggers, batch_events, as_of, self.rules)
        out.actions.extend(derived.actions)
        due = [c for c in (out.next_checks[profile["customer_id"]], derived.next_check) if c is not None]
        out.next_checks[profile["customer_id"]] = min(due) if due else None

    def rewrite(self, state: dict[str, Profile], stored: dict[str, history_tables.StoredKeys], as_of: int, version: int, out: Output) -> None:
        """Writes every row of ``stored``'s customers again at ``version`` and withdraws the history rows
        the warehouse holds for them (``stored``: customer → table → keys) that their state does not.

        For a batch whose rows may have reached the warehouse without its state being saved
        (``projections.history_tables``): ``version`` must be at least the highest that batch wrote,
        so the rewritten rows replace whatever it left.
        """
        present = stored.keys() & state.keys()
        for customer in present:
            state[customer]["derived"]["digests"].clear()  # every current-state row is written again
        self.update(state, [], {}, present, as_of, version, out)
        for customer, keys in stored.items():
            history_tables.rewrite(customer, state.get(customer), keys, version, out.rows)

    def _update(self, profile: Profile, earliest: int | None, as_of: int, version: int, rows: dict) -> int | None:
        """Recomputes one customer's derived projections as of ``as_of``; returns its next time-driven check."""
        rules = self.rules
        customer = profile["customer_id"]
        checks = [_update_lifecycle(profile, as_of, version, rules.lifecycle, rows), self._update_tags(profile, earliest, as_of, version, rows)]
        derived = profile["derived"]
        worth = value(profile["purchases"], profile["refunds"], len(profile["referrals"]), as_of, rules.value)
        risk = churn_risk(profile, as_of, rules.churn, rules.lifecycle)
        ticket_list = tickets(profile, as_of, rules.service)
        checks += [worth.next_change, risk.next_change, *(t.next_change for t in ticket_list)]
        emit = partial(_emit_if_changed, derived["digests"], version, rows)
        emit(customer_traits.TABLE, customer, customer_traits.row(customer, computed_traits(profile, rules.profile)))
        emit(customer_tags.TABLE, customer, customer_tags.row(customer, derived["tags"]))
        emit(customer_value.TABLE, customer, customer_value.row(customer, worth))
        emit(customer_satisfaction.TABLE, customer, customer_satisfaction.row(customer, satisfaction(profile, rules.satisfaction, rules.lifecycle)))
        emit(customer_service.TABLE, customer, customer_service.row(customer, ticket_list))
        emit(churn_table.TABLE, customer, churn_table.row(customer, risk))
        _update_churn_history(profile, earliest, as_of, version, rules, rows)
        emit(customer_loyalty.TABLE, customer, customer_loyalty.row(customer, loyalty(profile["purchases"], profile["refunds"], len(profile["referrals"]), redemptions(profile), rules.loyalty)))
        for ticket in ticket_list:
            emit(ticket_table.TABLE, f"{customer}/{ticket.ticket_id}", ticket_table.row(customer, ticket))
        consent_rows.write(profile["consent"], customer, version, emit, rows)
        due = [c for c in checks if c is not None]
        return min(due) if due else None

    def _update_tags(self, profile: Profile, earliest: int | None, as_of: int, version: int, rows: dict) -> int | None:
        derived = profile["derived"]
        until = derived["tags_until"]
        if profile["first_seen"] is None:
            return None
        start = profile["first_seen"] if until is None else min(until + 1, earliest if earliest is not None else until + 1)
        result = replay(derived["tag_history"], start, list(profile["times"].values()), self.tag_context(profile, self._reads), self.tags, as_of)
        customer = profile["customer_id"]
        table = rows[tag_changes.TABLE.name]
        table.extend(tag_changes.row(customer, e, version, deleted=True) for e in result.retracted)
        table.extend(tag_changes.row(customer, e, version) for e in result.written)
        derived.update(tags=result.current, tag_history=result.history, tags_until=as_of)
        return result.next_check

    def tag_context(self, profile: Profile, reads: frozenset[str] | None = None) -> Context:
        """The facts tag rules read, of one customer (lifecycle stages as last computed); ``reads``:
        only the features of this pipeline's rules (``features.context``), None: any rules'."""
        transitions = profile["lifecycle"]["transitions"]
        return context(profile, [t[0] for t in transitions], [t[2] for t in transitions], self.rules.identity.joins, self._tier_of, reads)

    def retag(self, profile: Profile, as_of: int, version: int, rows: dict) -> int | None:
        """Recomputes one customer's tags from their first event under this pipeline's tag rules, as
        if none had been recorded, and writes their ``customer_tags`` row: for `cdp tags apply`
        (``cdp.retag``), which empties the tag tables first. Returns the next time-driven tag check."""
        derived = profile["derived"]
        derived.update(tags={}, tag_history=[], tags_until=None)
        derived["digests"].pop(f"{customer_tags.TABLE.name}:{profile['customer_id']}", None)
        check = self._update_tags(profile, None, as_of, version, rows)
        _emit_if_changed(derived["digests"], version, rows, customer_tags.TABLE, profile["customer_id"], customer_tags.row(profile["customer_id"], derived["tags"]))
        return check

    def _retract(self, absorbed: Profile, customer: str, version: int, rows: dict) -> None:
        """Withdraws every row of a customer merged into another."""
        rows[lifecycle_transitions.TABLE.name].extend(lifecycle_transitions.row(customer, t, version, deleted=True) for t in absorbed["lifecycle"]["transitions"])
        rows[tag_changes.TABLE.name].extend(tag_changes.row(customer, e, version, deleted=True) for e in absorbed["derived"]["tag_history"])
        rows[churn_level_changes.TABLE.name].extend(churn_level_changes.row(customer, c, version, deleted=True) for c in churn_changes(absorbed))
        for table in CUSTOMER_TABLES:
            rows[table.name].append(_tombstone(table, customer, version))
        for ticket in absorbed["ticket_info"].keys() | {t[2] for t in absorbed["tickets"]}:
            rows[ticket_table.TABLE.name].append(_tombstone(ticket_table.TABLE, customer, version) | {"ticket_id": ticket})
        consent_rows.retract(absorbed["consent"], customer, version, rows)

    def _answer_rows(self, tp: Touchpoint, customer: str, said: Said | None, rows: dict) -> None:
        event, rules = tp.event, self.rules
        event_type, props = event["event_type"], event["properties"]
        answer = partial(survey_answers.row, tp.position, customer, event["occurred_at"])
        table = rows[survey_answers.TABLE.name]
        if event_type == "nps_answered":
            table.append(answer("nps", event_type, props["score"], nps_category(props["score"], rules.lifecycle)))
        elif event_type == "csat_answered":
            satisfied = props["score"] >= rules.satisfaction.csat_satisfied_min
            table.append(answer("csat", event_type, props["score"], "satisfied" if satisfied else "unsatisfied"))
        elif event_type == "csi_answered":
            table.append(answer("csi", event_type, csi(props["factors"], rules.satisfaction), ""))
        if said is not None:
            found = said.found
            table.append(answer("text", event_type, found.score, props.get("sentiment") or found.label, found.terms, topics(said.text, rules.profile.topics)))


def identity_rows(resolution: Resolution, rows: dict) -> None:
    """The identity tables' rows of a resolved batch (merges, refusals, identifier assignments)."""
    rows[customer_merges.TABLE.name].extend(customer_merges.row(merge) for merge in resolution.merges)
    rows[identity_refusals.TABLE.name].extend(identity_refusals.row(r) for r in resolution.refusals)
    rows[identities.TABLE.name].extend(identities.row(key, customer, position) for key, (customer, position) in resolution.changed_keys.items())


def _emit_if_changed(digests: dict[str, int], version: int, rows: dict, table: Table, key: str, row: dict) -> None:
    """Writes a row only when it differs from the one last written under ``key`` for ``table``."""
    encoded = orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    digest = int.from_bytes(hashlib.blake2b(encoded, digest_size=8).digest(), "big")  # 64 bits: a missed change is negligible
    slot = f"{table.name}:{key}"
    if digests.get(slot) != digest:
        digests[slot] = digest
        rows[table.name].append(row | {"version": version, "is_deleted": 0})


def _tombstone(table: Table, customer: str, version: int) -> dict:
    return blank_row(table) | {"customer_id": customer, "version": version, "is_deleted": 1}


def _update_churn_history(profile: Profile, earliest: int | None, as_of: int, version: int, rules: Rules, rows: dict) -> None:
    """Replays the churn level from the earliest new event (or from where the last replay stopped), writes
    the changes that differ from those written before, and retracts those no longer true."""
    written, until = churn_changes(profile), profile["derived"].get("churn_until")
    since = None if until is None else min(until, earliest) if earliest is not None else until
    before = {churn_level_changes.key(c): c for c in written}
    after = {churn_level_changes.key(c): c for c in level_changes(profile, as_of, rules.churn, rules.lifecycle, written, since)}
    customer = profile["customer_id"]
    table = rows[churn_level_changes.TABLE.name]
    table.extend(churn_level_changes.row(customer, c, version, deleted=True) for k, c in before.items() if k not in after)
    table.extend(churn_level_changes.row(customer, c, version) for k, c in after.items() if before.get(k) != c)
    profile["derived"].update(churn_changes=list(after.values()), churn_until=as_of)


def _update_lifecycle(profile: Profile, as_of: int, version: int, rules: LifecycleRules, rows: dict) -> int | None:
    result = lifecycle(lifecycle_facts(profile), as_of, rules)
    before = {lifecycle_transitions.key(t): t for t in profile["lifecycle"]["transitions"]}
    after = {lifecycle_transitions.key(t): t for t in map(lifecycle_transitions.encode, result.transitions)}
    customer = profile["customer_id"]
    table = rows[lifecycle_transitions.TABLE.name]
    table.extend(lifecycle_transitions.row(customer, t, version, deleted=True) for k, t in before.items() if k not in after)
    table.extend(lifecycle_transitions.row(customer, t, version) for k, t in after.items() if before.get(k) != t)
    profile["lifecycle"] = {"stage": result.stage, "since": result.since, "cause": result.cause, "transitions": list(after.values())}
    return result.next_check
