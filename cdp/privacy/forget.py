"""Forgetting a customer (right to erasure) by crypto-shredding: the event log stays append-only.

For each customer the identifier names (with every customer merged into it):
1. find all its identifiers (identity index, plus identifiers the identity limits left unattached
   on its events);
2. delete the data keys of those identifiers, and of the dead letters that mention any of their
   values (each letter is opened and searched), so all of it becomes unreadable for good;
3. replace the plaintext in the state store (identifiers → the erasure token, profile → counts and
   facts only) and in the warehouse (``cdp.privacy.scrub``);
4. append a ``customer_erased`` event that names only the opaque erasure token;
5. record and return a receipt: what was found, where, when (counts, never the values); the
   audit log gets who asked, and the erasure journal (``cdp.backup.erasures``, outside every
   backup) the customer id, so a restore of an older backup forgets the customer again.

It holds the runner's lock throughout, so a runner following the log in the same process (the
server's) never writes a batch between the scrub and the erasure event. On the scale-out
deployment (a database where ``cdp relay`` has run) the projection state is the relay's and the
workers' in PostgreSQL instead of the state store: ``ScaleoutErasure`` reads and erases it in one
transaction that holds the relay's and the workers' locks while the keys are shredded (its
docstring says why that is safe), and the running relay and workers process the erasure event.

A rebuild keeps the customer erased: the events sealed with the shredded keys open as erased with
the erasure token as their only identifier, so they resolve to one customer again, which the
``customer_erased`` event marks. ``customer_erased`` takes the customer's last event time as its
event time (its ``received_at`` is when it was forgotten), so an administrative act does not move
the event-time watermark that lifecycle stages are evaluated at.
"""

import secrets
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime

from cdp.backup.erasures import ErasureJournal, journal_path
from cdp.customers import Customers
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.privacy.sealing import ERASED_PREFIX, erased_user_id
from cdp.privacy.scrub import scrub
from cdp.scaleout.state import ScaleoutErasure, relay_has_run
from cdp.statestore import StateStore
from projections.tables import identity_refusals
from schemas import Envelope, parse_envelope
from schemas.payloads.privacy import CustomerErased

ERASURE_SOURCE = "privacy"


class NoSuchCustomer(CdpError):
    pass


class AlreadyForgotten(CdpError):
    pass


def forget(platform: Platform, identifier: str, actor: str, process: bool = True) -> list[dict]:
    """Forgets every customer ``identifier`` names on behalf of ``actor`` (audited); returns one receipt per customer.

    ``process``: first bring the projections up to date (so events not processed yet are found),
    and process the erasure event afterwards. Leave it off where a runner is already following
    the log (the server), so that two runners never share the projection state.
    """
    settings = platform.settings
    scaleout = settings.event_store.backend == "postgres" and relay_has_run(settings.event_store.postgres)
    process = process and not scaleout  # there, the relay and the workers process the log
    with platform.runner.lock:
        if process:
            platform.runner.run()
        customers = Customers(platform.warehouse).resolve_all(identifier)
        if not customers:
            hint = "have the relay and the workers processed the events?" if scaleout else "has `cdp run` processed the events?"
            raise NoSuchCustomer(f"no customer has the identifier {identifier!r} ({hint})")
        receipts = []
        journal = ErasureJournal(journal_path(platform.settings))
        with _projection_state(platform, scaleout) as state:
            for customer in customers:
                receipt = _forget_customer(platform, state, customer)
                journal.record(customer)
                platform.audit.record(actor, "customer.forget", customer, "done", {k: v for k, v in receipt.items() if k != "customer_id"})
                receipts.append(receipt)
        if process:
            platform.runner.run()
    return receipts


def _projection_state(platform: Platform, scaleout: bool) -> AbstractContextManager[StateStore | ScaleoutErasure]:
    """Where the projections' state is: the state store, or the scale-out runners' in PostgreSQL."""
    if not scaleout:
        return nullcontext(platform.state)
    settings = platform.settings
    return ScaleoutErasure(settings.event_store.postgres, settings.kafka.topic, settings.kafka.partitions)


def _forget_customer(platform: Platform, state: StateStore | ScaleoutErasure, customer: str) -> dict:
    warehouse, keys = platform.warehouse, platform.data_keys
    started = datetime.now(UTC)
    group = Customers(warehouse).merged_into(customer)
    identifiers = sorted(set(state.identifiers_of(group)) | _unattached(platform, group))
    if identifiers and all(key.startswith(f"user_id:{ERASED_PREFIX}") for key in identifiers):
        raise AlreadyForgotten(f"customer {customer} was forgotten already (erasure token {identifiers[0].rsplit(':', 1)[1]})")
    token = secrets.token_hex(16)
    user_id = erased_user_id(token)
    profile = state.load_profiles([customer]).get(customer)
    keys_shredded = keys.shred(keys.subject_key_ids(identifiers), token)
    letters = platform.dead_letters.keys_mentioning(_needles(identifiers))
    letters_shredded = keys.shred(letters, token)
    identifiers_removed = state.erase(group, customer, user_id)
    tables = scrub(warehouse, group, identifiers, customer, user_id, state.tracked()[0])
    last_seen = profile["last_seen"] if profile and profile["last_seen"] is not None else None
    stored, _ = platform.append([_erasure_event(token, keys_shredded, letters_shredded, last_seen, started)])
    receipt = {
        "erasure_token": token,
        "erased_at": started.isoformat(),
        "customer_id": customer,
        "customers_merged_in": [c for c in group if c != customer],
        "identifiers_found": dict(sorted(Counter(key.split(":", 1)[0] for key in identifiers).items())),
        "keys_shredded": {"identifiers": keys_shredded, "dead_letters": letters_shredded},
        "state_store": {"identifiers_removed": identifiers_removed, "profiles_erased": len(group)},
        "warehouse_rows_scrubbed": tables,
        "erasure_event_stored": bool(stored),
        "erasure_event_identifier": f"user_id:{user_id}",
    }
    keys.record_erasure(token, receipt["erased_at"], receipt)
    return receipt


def _unattached(platform: Platform, group: list[str]) -> set[str]:
    """Identifiers on the customers' events that the identity limits left attached to nobody."""
    warehouse = platform.warehouse
    rows = warehouse.query(
        f"SELECT DISTINCT identifier FROM `{warehouse.database}`.`{identity_refusals.TABLE.name}` "
        "WHERE customer_id IN {ids:Array(String)} AND other_customer = ''",
        {"ids": group},
    )
    return {row["identifier"] for row in rows}


def _needles(identifiers: list[str]) -> list[str]:
    """What to search dead letters for: email, phone and handle values anywhere; ids as whole JSON strings."""
    needles = []
    for key in identifiers:
        kind, value = key.split(":", 1)
        if kind in ("email", "phone"):
            needles.append(value)
        elif kind == "social":
            needles.append(value.split(":", 1)[1])
        elif kind in ("user_id", "anonymous_id"):
            needles.append(f'"{value}"')
    return needles


def _erasure_event(token: str, keys_shredded: int, letters_shredded: int, last_seen_ms: int | None, at: datetime) -> Envelope:
    occurred = datetime.fromtimestamp(last_seen_ms / 1000, UTC) if last_seen_ms is not None else at
    return parse_envelope(
        {
            "message_id": f"erasure-{token}",
            "event_type": CustomerErased.event_type,
            "source_kind": CustomerErased.source_kind,
            "source_name": ERASURE_SOURCE,
            "occurred_at": occurred.isoformat(),
            "received_at": at.isoformat(),
            "identifiers": {"user_id": erased_user_id(token)},
            "properties": {"erasure_token": token, "keys_shredded": keys_shredded, "dead_letters_shredded": letters_shredded},
        }
    )
