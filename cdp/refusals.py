"""A refusal a user reads, as a code with its parameters, so each door can word it: the CLI and the
HTTP API show the English text (the error's message, as ever), the console its catalogues'
``refusal.<code>`` in the reader's language (docs/console.md "Languages").

``ENGLISH`` is every code a service or the console gives: a code missing here fails at its first
use, and a unit test checks that both catalogues word each with the same parameters. A parameter
that is a list is written as its items joined by ", " (the console joins them its own way).
"""

from typing import Any, TypeVar

from cdp.errors import CdpError
from projections.causes import filled

ENGLISH: dict[str, str] = {
    # any service
    "needs_scope": "this needs the {scope} scope",
    "store_unavailable": "error {error_id}: a store is unavailable; the server's log has the details",
    "internal_error": "error {error_id}: the server failed; its log has the details",
    "no_profile_yet": "customer {customer} has no profile yet (its events are not processed)",
    "no_customer": "no customer has the identifier {identifier!r} (has `cdp run` processed its events?)",
    "no_segment": "no segment named {name!r}{cut}",
    "segment_exists": "a segment named {name!r} exists; update it to change it (its earlier versions are kept)",
    "segment_in_use": "segment {name!r} is part of the segment(s) {users}; take it out of them first",
    "not_between": "{field}: {given} is not between {low:,} and {high:,}",
    "personal_condition": "{path}: this tests personal data, which needs the {scope} scope",
    # the console's forms
    "csrf_stale": "csrf: the form's token is missing or stale; reload the page and try again",
    "form_too_large": "form: more than {limit:,} bytes",
    "language_unknown": "language: expected one of {known}, got {given!r}",
    "whole_numbers": "{field}: expected whole numbers, got {given!r}",
    "minutes_number": "every_minutes: expected a whole number of minutes, got {given!r}",
    "date_expected": "{field}: expected a date like 2026-03-01, got {given!r}",
    "not_toml": "{field}: not TOML: {detail}",
    "no_dashboard": "no dashboard {given!r}; there are {known}",
    # operations (cdp/services/quarantine.py, cdp/services/sources.py)
    "quarantine_scaleout": "replay works on the embedded runner's quarantine; on the scale-out deployment, `cdp quarantine list` shows the relay's and the workers'",
    "not_quarantined": "position {position} is not quarantined (cdp quarantine list)",
    "unknown_connector": "connector: unknown connector {given!r} (see `cdp connectors list`)",
    "limit_at_least_1": "limit: expected at least 1, got {given}",
    "no_dead_letter": "no dead letter has the id {id}",
    # analytics (cdp/services/analytics.py)
    "step_too_long": "steps: an event type has at most {most} characters",
    "window_days_range": "window_days: expected more than 0 and at most {most}, got {given}",
    "within_days_range": "within_days: expected 1 to {most}, got {given}",
    "warning_level": "level: expected medium or high, got {given!r}",
    "backtest_end": "end: the warnings up to {end} need {within_days} days of outcome, but the data ends at {data_end}; choose an end on or before {latest}, or fewer within_days",
    "segment_missing": "segment: no segment named {name!r}{cut}",
    # destinations (cdp/services/activation.py, cdp/activation/registry.py, cdp/activation/secrets.py)
    "bad_name": "name: {given!r}: use 1-64 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit",
    "secret_needed": "secret: a {kind} destination needs one: {help}",
    "destination_exists": "name: a destination named {name!r} exists already (remove it first: `cdp destinations remove {name}`)",
    "no_destination": "destination: none is named {name!r} (see `cdp destinations list`)",
    "destination_bound": "destination: {name!r} is bound to the audience(s) {audiences}; unbind them first (`cdp audiences unbind NAME`)",
    "destination_in_use": "destination: {name!r} is used by the enabled trigger(s) {triggers}; disable them first (`cdp triggers disable NAME`)",
    "test_failed": "destination {name!r}: the test message failed: {detail}",
    "secret_key_deleted": "destination {name!r}: its secret's key was deleted; add the destination again",
    "secret_unreadable": "destination {name!r}: its secret does not open (was the row copied from another destination?); add the destination again",
    # audience bindings and the delivery log
    "binding_exists": "name: an audience binding named {name!r} exists already",
    "purpose_unknown": "purpose: {given!r} is not one of {known} or {none}",
    "field_unknown": "fields: no profile column {given!r}; known: {known}",
    "bad_channel": "channel: {given!r}: use lower-case letters, digits, '_' or '-'",
    "minutes_range": "every_minutes: {given} is not between 0 (on demand only) and 10,080 (a week)",
    "no_binding": "audience: no binding is named {name!r} (see `cdp audiences list`)",
    "status_unknown": "status: {given!r} is not one of {known}",
    "limit_range": "limit: {given} is not between 1 and {most:,}",
    "bad_action_id": "action_id: {given!r} is not an action id (32 hexadecimal digits, from `cdp deliveries --status dead`)",
    # triggers (cdp/services/triggers.py)
    "backfill_future": "backfill: {start} is in the future",
    "trigger_not_enabled": "trigger {name!r} is not enabled",
    "trigger_sample_range": "sample: must be between 0 and {most}",
    "since_after_until": "since: must be before until",
    "rules_not_table": "the trigger rules must be a table (an object) with a rules table",
    "no_segment_named": "where.segment: no segment named {name!r}",
    "no_trigger": "no trigger named {name!r}; configured: {known}",
    "no_trigger_configured": "no trigger named {name!r}; configured: none is configured ([triggers.rules] in cdp.toml)",
    # tags (cdp/services/tags.py)
    "no_tag_in_force": "no tag named {tag!r} is in force (`cdp tags list` lists them)",
    "tag_sample_range": "sample: {given} is not between 0 and {most}",
    "not_parsed": "{field}: not {format} ({detail})",
    "tags_not_mapping": "{field}: expected a mapping with rules and/or thresholds (active_days, spend_levels, ...)",
    "change_not_mapping": "invalid tag definitions: expected a mapping with rules and/or thresholds",
    "changes_no_tag": "the definitions change no tag: every rule they set is in force as it is",
}

E = TypeVar("E", bound=CdpError)


def english(code: str, params: dict[str, Any]) -> str:
    return filled(ENGLISH[code], params)


def refusal(kind: type[E], code: str, **params: Any) -> E:
    """An error of ``kind`` whose message is the code's English words, carrying the code and parameters."""
    error = kind(english(code, params))
    error.code, error.params = code, params
    return error


def as_kind(kind: type[E], error: CdpError) -> E:
    """The same refusal (its message, code and parameters) as another kind of error, e.g. a store's
    ``NoSuchDestination`` as the service's ``NotFound``."""
    again = kind(str(error))
    again.code, again.params = error.code, error.params
    return again
