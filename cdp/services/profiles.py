"""The 360° profile and the timeline: one view of every projection of one customer, for every door.

An identifier resolves to the customer it belongs to now (``cdp.customers``: merge chains
followed to their end); the view reads that customer's row of each projection table, and the
rows still written under the ids merged into it (events, survey answers). Consent in force is read
as segments read it (``cdp.segments.consent``): the ``consent_changes`` interval holding now, else
the configured default. The segments the customer is in are the saved segments evaluated with the
customer's id added to their condition, one small query per segment; the recommended products are
``cdp.recommendations``' (products, not personal data). Without ``pii:read`` every
personal field reads masked (``cdp.masking``). The view's parts are independent reads, made at once
over the warehouse's connections (``Warehouse.parallel``); a customer's events are read through the
events table's by-customer projection (``cdp.queries.customer_events``). Reading needs ``profiles:read``. Every read is audited (``profile.read``,
``profile.timeline``), its target the customer found, or the identifier's digest when none is.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

from cdp import queries
from cdp.audit import identifier_digest
from cdp.customers import Customers
from cdp.errors import CdpError
from cdp.identity_explain import explain
from cdp.masking import MASK, mask_event, mask_profile, mask_sentiment_terms, mask_suppression
from cdp.platform import Platform
from cdp.recommendations import for_customer as recommended
from cdp.refusals import refusal
from cdp.segments import evaluate
from cdp.segments.consent import ConsentScope
from cdp.segments.store import NOT_EVALUABLE
from cdp.services import Caller, NotFound
from cdp.services.audited import audited
from cdp.timetravel import profile_as_of
from cdp.warehouse.statements import first_line
from projections.tables import (
    churn_level_changes,
    churn_risk,
    consent_changes,
    customer_loyalty,
    customer_predictions,
    customer_satisfaction,
    customer_service,
    customer_tags,
    customer_traits,
    customer_value,
    suppressions,
    survey_answers,
    tickets,
)
from projections.tables.table import Table
from schemas.payloads.consent import PURPOSES, SUPPRESSED_IDENTIFIERS

READ = "profiles:read"
MAX_TIMELINE = 1000
RECOMMENDED = 5  # products the 360° view recommends (`cdp recommend` gives more)
_BOOKKEEPING = ("customer_id", "version", "is_deleted")
_OPEN_ENDED = "2100-01-01"  # consent_changes' valid_to of an interval still in force
# identifier type → the profile column listing the customer's identifiers of that type
IDENTIFIER_COLUMNS = {"user_id": "user_ids", "email": "emails", "phone": "phones", "social": "social_handles", "anonymous_id": "anonymous_ids", "account_id": "account_ids"}

log = logging.getLogger("cdp.serve")


class ProfileService:
    """A caller's reads of customers: ``profile`` (now), ``profile_as_of`` (a past day), ``timeline``."""

    def __init__(self, platform: Platform, caller: Caller):
        self.platform = platform
        self.caller = caller
        self.warehouse = platform.warehouse
        self.customers = Customers(platform.warehouse)
        self.db = platform.warehouse.database

    def profile(self, identifier: str) -> dict[str, Any]:
        """The 360° view of the customer ``identifier`` names now; ``NotFound`` when none does."""
        with self._audited("profile.read", identifier) as detail:
            return self._view(self._customer(identifier, detail))

    def profile_as_of(self, identifier: str, day: str) -> list[dict[str, Any]]:
        """The customer as they stood at the end of ``day``, replayed from their events (usually one
        profile; identity is re-resolved on those events alone). Not masked: the CLI's, whose
        operator reads every scope; ``pii:read`` is required."""
        with self._audited("profile.read", identifier, {"as_of": day[:40]}) as detail:
            self.caller.require("pii:read")
            found = profile_as_of(self.warehouse, self._customer(identifier, detail), day, self.platform.rules)
            if not found:
                raise NotFound(f"the customer had no events by {day}")
            return found

    def timeline(self, identifier: str, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
        """The customer's events and those of the customers merged into it, latest in the log first;
        the next page is ``before`` the last position of this one."""
        with self._audited("profile.timeline", identifier, {"limit": limit}) as detail:
            if not 1 <= limit <= MAX_TIMELINE:
                raise CdpError(f"limit: expected 1 to {MAX_TIMELINE}, got {limit}")
            if before is not None and not 0 <= before < 2**63:
                raise CdpError(f"before: expected a log position (0 or more), got {before}")
            customer = self._customer(identifier, detail)
            rows = queries.timeline(self.warehouse, self.customers.merged_into(customer), limit, before)
            return rows if self.caller.sees_personal_data else [mask_event(row) for row in rows]

    def identity(self, identifier: str) -> dict[str, Any]:
        """Why each identifier joined the customer, the merges and the joins refused (``cdp identity
        explain``); without ``pii:read`` each identifier shows its kind only (``email:***``)."""
        with self._audited("profile.identity", identifier) as detail:
            explained = explain(self.warehouse, self._customer(identifier, detail), self.platform.settings.identity)
            return explained if self.caller.sees_personal_data else _masked_identity(explained)

    def _customer(self, identifier: str, detail: dict[str, Any]) -> str:
        """The current customer ``identifier`` names (the first by id, should a value name several:
        a user id equal to another's phone), named as the audit record's target."""
        found = self.customers.resolve_all(identifier)
        if not found:
            raise refusal(NotFound, "no_customer", identifier=identifier[:200])
        detail["target"] = found[0]
        return found[0]

    @contextmanager
    def _audited(self, action: str, identifier: str, detail: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """The audit record of one read; the ``profiles:read`` check is inside it, so a refusal is audited too."""
        digest = identifier_digest(identifier)
        with audited(self.platform.audit, self.caller, action, digest, {"identifier": digest, "pii": self.caller.sees_personal_data, **(detail or {})}) as found:
            self.caller.require(READ)
            yield found

    def _view(self, customer: str) -> dict[str, Any]:
        """Every part read at once over the warehouse's connections (``Warehouse.parallel``): first the
        profile and the customers merged in, then what needs them."""
        first = self.warehouse.parallel({"row": lambda: queries.profile(self.warehouse, customer), "group": lambda: self.customers.merged_into(customer)})
        row, group = first["row"], first["group"]
        if row is None:
            raise refusal(NotFound, "no_profile_yet", customer=customer)
        profile = row if self.caller.sees_personal_data else mask_profile(row)
        parts = self.warehouse.parallel({
            "computed_traits": lambda: self._one(customer_traits.TABLE, customer),
            "tags": lambda: self._tags(customer),
            "value": lambda: self._one(customer_value.TABLE, customer),
            "predictions": lambda: self._one(customer_predictions.TABLE, customer),  # after `cdp value fit` (README "Predictions")
            "satisfaction": lambda: self._satisfaction(customer, group),
            "service": lambda: self._one(customer_service.TABLE, customer),
            "tickets": lambda: self._tickets(customer, group),
            "churn_risk": lambda: self._one(churn_risk.TABLE, customer),
            "churn_history": lambda: self._rows(churn_level_changes.TABLE, customer, "at, from_level, to_level, score, signs, reasons, reason_params", "at"),
            "loyalty": lambda: self._one(customer_loyalty.TABLE, customer),
            "consent": lambda: self._consent(customer),
            "suppressions": lambda: self._suppressions(customer, row),
            "segments": lambda: self._segments(customer),
            "recommendations": lambda: recommended(self.warehouse, customer, RECOMMENDED, group),
        })
        return {
            **profile,
            "customers_merged_in": [c for c in group if c != customer],
            "identifiers": {kind: profile[column] for kind, column in IDENTIFIER_COLUMNS.items()},
            **parts,
        }

    def _table(self, table: Table) -> str:
        return f"`{self.db}`.`{table.name}`"

    def _one(self, table: Table, customer: str) -> dict[str, Any] | None:
        """The customer's current row of ``table`` (its own columns), or None."""
        columns = [c for c in table.column_names if c not in _BOOKKEEPING]
        rows = self.warehouse.query(f"SELECT {', '.join(f'`{c}`' for c in columns)} FROM {self._table(table)} FINAL WHERE customer_id = {{id:String}}", {"id": customer})
        return rows[0] if rows else None

    def _rows(self, table: Table, customer: str, columns: str, order: str) -> list[dict[str, Any]]:
        return self.warehouse.query(f"SELECT {columns} FROM {self._table(table)} FINAL WHERE customer_id = {{id:String}} ORDER BY {order}", {"id": customer})

    def _tags(self, customer: str) -> list[dict[str, Any]]:
        row = self._one(customer_tags.TABLE, customer)
        return [] if row is None else [{"tag": tag, "since": row["tags_since"].get(tag)} for tag in row["tags"]]

    def _satisfaction(self, customer: str, group: list[str]) -> dict[str, Any] | None:
        satisfaction = self._one(customer_satisfaction.TABLE, customer)
        return None if satisfaction is None else {**self._private(satisfaction), "answers": self._answers(group)}

    def _answers(self, group: list[str]) -> list[dict[str, Any]]:
        """Every NPS, CSAT, CSI answer and free text, scored, with the properties of the event that
        carried it (its comment or text: personal, masked without pii:read). Read without FINAL (a
        quarter of its cost on the demo, the table being keyed by kind and time, not customer):
        rows with the same key are copies of one answer (a replayed batch written twice, until a
        merge drops one), so one row per key is what FINAL keeps, as ``cdp.queries.customer_events`` does."""
        answers = self.warehouse.query(
            f"SELECT position, at, kind, event_type, score, category, terms FROM {self._table(survey_answers.TABLE)} "
            f"WHERE customer_id IN {{ids:Array(String)}} ORDER BY at, position LIMIT 1 BY {survey_answers.TABLE.order_by.strip('()')}",
            {"ids": group},
        )
        if not answers:
            return []  # no read of the events for nothing
        carried = self._event_properties(
            group, "event_type IN {types:Array(String)} AND position IN {positions:Array(UInt64)}",
            {"types": sorted({a["event_type"] for a in answers}), "positions": [a["position"] for a in answers]},
        )
        return [{**self._private(a), "properties": carried.get(a["position"], {})} for a in answers]

    def _private(self, row: dict[str, Any]) -> dict[str, Any]:
        return row if self.caller.sees_personal_data else mask_sentiment_terms(row)

    def _tickets(self, customer: str, group: list[str]) -> list[dict[str, Any]]:
        """Every ticket with its SLA state, and the subject it was opened with (personal; ``service`` sums them up)."""
        columns = ", ".join(f"`{c}`" for c in tickets.TABLE.column_names if c not in _BOOKKEEPING)
        found = self._rows(tickets.TABLE, customer, columns, "opened_at, ticket_id")
        if not found:
            return []
        opened = self._event_properties(group, "event_type = 'ticket_opened'", {})
        subjects = {p.get("ticket_id"): p.get("subject", "") for p in opened.values()}
        return [{**t, "subject": subjects.get(t["ticket_id"], "")} for t in found]

    def _event_properties(self, group: list[str], where: str, params: dict[str, Any]) -> dict[int, dict[str, Any]]:
        """Log position → properties of the group's events matching ``where``, masked without pii:read."""
        rows = queries.customer_events(self.warehouse, group, "position, event_type, properties", where, params)
        if not self.caller.sees_personal_data:
            rows = [mask_event(r) for r in rows]
        return {r["position"]: orjson.loads(r["properties"]) for r in rows}

    def _consent(self, customer: str) -> dict[str, dict[str, Any]]:
        """Purpose → the consent in force now: the decision's interval holding now, else the configured default."""
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        rows = self.warehouse.query(
            f"SELECT purpose, granted, valid_from, valid_to, cause, source_name, channel, legal_basis, wording_version FROM {self._table(consent_changes.TABLE)} FINAL "
            "WHERE customer_id = {id:String} AND valid_from <= {now:DateTime64(3, 'UTC')} AND {now:DateTime64(3, 'UTC')} < valid_to",
            {"id": customer, "now": now},
        )
        decided = {r["purpose"]: r for r in rows}
        defaults = self.platform.settings.consent
        view = {}
        for purpose in PURPOSES:
            r = decided.get(purpose)
            if r is None:
                view[purpose] = {"granted": defaults.granted_without_decision(purpose), "decided": False}
            else:
                until = None if r["valid_to"].startswith(_OPEN_ENDED) else r["valid_to"]
                view[purpose] = {"granted": bool(r["granted"]), "decided": True, "since": r["valid_from"], "until": until, **{k: r[k] for k in ("cause", "source_name", "channel", "legal_basis", "wording_version")}}
        return view

    def _suppressions(self, customer: str, profile: dict[str, Any]) -> list[dict[str, Any]]:
        """Suppressions in force naming the customer or one of their identifiers (as ``cdp.segments.consent`` reads them)."""
        held = [f"{kind}:{value}" for kind in SUPPRESSED_IDENTIFIERS for value in profile[IDENTIFIER_COLUMNS[kind]]]
        rows = self.warehouse.query(
            f"SELECT identifier, purpose, since, reason, source_name, note FROM {self._table(suppressions.TABLE)} FINAL "
            "WHERE suppressed = 1 AND (customer_id = {id:String} OR identifier IN {held:Array(String)}) ORDER BY since, identifier, purpose",
            {"id": customer, "held": held},
        )
        return rows if self.caller.sees_personal_data else [mask_suppression(r) for r in rows]

    def _segments(self, customer: str) -> list[str]:
        """The saved segments the customer is in: each segment's condition with the customer's id added
        (one deleted meanwhile, no longer valid, or whose query the warehouse refuses, say too long
        for it, is left out and logged)."""
        as_of = evaluate.data_as_of(self.warehouse)
        scope = ConsentScope(self.platform.settings.consent)
        found = []
        for saved in self.platform.segments.list():
            try:
                c = evaluate.compiled(self.warehouse, self.platform.segments.get(saved["name"]), as_of, scope)
                sql = f"SELECT count() AS n {c.from_sql} WHERE ({c.where_sql}) AND p.customer_id = {{profile_customer:String}}"
                if self.warehouse.query(sql, {**c.params, "profile_customer": customer})[0]["n"]:
                    found.append(saved["name"])
            except NOT_EVALUABLE as refused:  # one segment's fault fails its own evaluation only
                log.warning("the 360° view of %s leaves out segment %s: %s", customer, saved["name"], first_line(str(refused)))
        return found


def _masked_key(key: str) -> str:
    """``email:li@example.com`` as ``email:***``: the kind of identifier shows, never its value."""
    return f"{key.partition(':')[0]}:{MASK}"


def _masked_identity(explained: dict[str, Any]) -> dict[str, Any]:
    steps = [{**s, **{part: [_masked_key(k) for k in s[part]] for part in ("joined", "blocked", "with")}} for s in explained["identifiers"]]
    refusals = [{**r, "identifier": _masked_key(r["identifier"])} for r in explained["refusals"]]
    return {**explained, "identifiers": steps, "refusals": refusals}
