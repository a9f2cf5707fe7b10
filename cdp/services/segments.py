"""Segments as a use case: save, version, size up, list and export customer groups, with every rule
in one place so that the CLI, HTTP and the console answer alike.

The rules: a definition is validated (its shape, then its condition values against what the
projections can hold), errors naming the path in it (``where.all[2].value``); reading needs
``segments:read`` and saving or deleting ``segments:write``; contact data (emails, phones, ...)
is listed or exported only for a consent purpose (or ``none``, said on purpose), which leaves out
customers without consent in force or suppressed for it, consent defaults from the settings;
personal columns read masked for a caller without ``pii:read`` (for whom no purpose is needed: they
get no contact data); every read and write is audited with its outcome. See docs/architecture.md.
"""

from __future__ import annotations  # the method ``list`` would shadow the type in the annotations after it

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from cdp.errors import CdpError, Problem, SegmentInvalid
from cdp.masking import mask_profile
from cdp.platform import Platform
from cdp.refusals import as_kind, refusal
from cdp.segments import evaluate
from cdp.segments.consent import ConsentScope, scope_for
from cdp.segments.fields import FIELDS, OPERATORS
from cdp.segments.model import Segment, parse_segment
from cdp.segments.personal import personal_conditions
from cdp.segments.problems import english
from cdp.segments.store import NoSuchSegment, SegmentExists, SegmentInUse, definition_of
from cdp.services import Caller, Conflict, NotFound
from cdp.services.audited import audited

READ, WRITE = "segments:read", "segments:write"
MAX_PAGE = 10_000  # members per call; an export has no limit
MAX_SAMPLE = 100  # members a preview shows

Definition = Segment | Mapping[str, Any]  # parsed (the CLI read a file) or as sent (an HTTP body)
Subject = str | Definition  # a saved segment's name, or a definition not saved
T = TypeVar("T")


class SegmentService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform = platform
        self.caller = caller

    def list(self) -> list[dict[str, Any]]:
        with self._audited(READ, "segment.list", "*"):
            return self.platform.segments.list()

    def get(self, name: str) -> dict[str, Any]:
        """The segment now (definition, version, times) and every saved version, oldest first."""
        with self._audited(READ, "segment.read", _name_of(name)):
            history = _stored(lambda: self.platform.segments.history(name))
            now = history[-1]
            return {
                "name": now.segment.name, "description": now.segment.description, "version": now.version, "created_at": history[0].saved_at,
                "updated_at": now.saved_at, "definition": definition_of(now.segment), "history": [v.as_dict() for v in history],
            }  # fmt: skip

    def create(self, definition: Definition) -> dict[str, Any]:
        """Saves a new segment (``Conflict`` if the name is taken); returns its version and size now."""
        with self._audited(WRITE, "segment.create", _name_of(definition)) as detail:
            segment = self._checked(definition, written=True)
            detail["target"] = segment.name
            self.platform.segments.check(segment)
            customers = self._count(self._expanded(segment), None)
            saved = _stored(lambda: self.platform.segments.create(segment, self.caller.actor))
            detail["version"] = saved.version
            return {"name": segment.name, "version": saved.version, "saved_at": saved.saved_at, "customers": customers}

    def update(self, name: str, definition: Definition) -> dict[str, Any]:
        """Saves ``definition`` as the newest version of the segment ``name`` (the earlier ones are kept)."""
        with self._audited(WRITE, "segment.update", _name_of(name)) as detail:
            _stored(lambda: self.platform.segments.written(name))
            segment = self._checked(_named(definition, name), written=True)
            self.platform.segments.check(segment)
            customers = self._count(self._expanded(segment), None)
            saved = _stored(lambda: self.platform.segments.update(segment, self.caller.actor))
            detail["version"] = saved.version
            return {"name": segment.name, "version": saved.version, "saved_at": saved.saved_at, "customers": customers}

    def delete(self, name: str) -> None:
        """Forgets the segment and its history."""
        with self._audited(WRITE, "segment.delete", _name_of(name)):
            _stored(lambda: self.platform.segments.delete(name))

    def count(self, subject: Subject, purpose: str | None = None) -> dict[str, Any]:
        """How many customers are in it now; with ``purpose``, how many may be contacted for it."""
        with self._audited(READ, "segment.count", _name_of(subject), {"purpose": purpose}) as detail:
            segment = self.resolve(subject, detail)
            return {"segment": segment.name, "customers": self._count(segment, purpose)}

    def preview(self, definition: Definition, purpose: str | None = None, sample: int = 10, columns: list[str] | None = None) -> dict[str, Any]:
        """A definition's size and its first ``sample`` members (by customer id), without saving it."""
        with self._audited(READ, "segment.preview", _name_of(definition), {"purpose": purpose, "sample": sample}) as detail:
            _within("sample", sample, 0, MAX_SAMPLE)
            segment = self.resolve(definition, detail)
            chosen, scope = self._scope(purpose, columns, detail)
            rows = evaluate.members(self.platform.warehouse, segment, sample, 0, chosen, consent=scope) if sample else []
            return {"segment": segment.name, "customers": evaluate.count(self.platform.warehouse, segment, consent=scope), "sample": self._shown(rows)}

    def members(self, subject: Subject, limit: int = 100, offset: int = 0, columns: list[str] | None = None, purpose: str | None = None) -> list[dict[str, Any]]:
        """A page of the members, by customer id; only those contactable for ``purpose`` when one is given."""
        with self._audited(READ, "segment.members", _name_of(subject), {"limit": limit, "offset": offset, "purpose": purpose}) as detail:
            _within("limit", limit, 1, MAX_PAGE)
            _within("offset", offset, 0, 2**63 - 1)
            segment = self.resolve(subject, detail)
            chosen, scope = self._scope(purpose, columns, detail)
            rows = evaluate.members(self.platform.warehouse, segment, limit, offset, chosen, consent=scope)
            detail["returned"] = len(rows)
            return self._shown(rows)

    def export(self, subject: Subject, target: Path | BinaryIO, fmt: str, purpose: str | None = None, columns: list[str] | None = None) -> int:
        """Writes every member to ``target`` as ``csv`` or ``parquet``; returns how many. A path is created
        only once the request is found valid."""
        with self._audited(READ, "segment.export", _name_of(subject), {"format": fmt, "purpose": purpose}) as detail:
            segment = self.resolve(subject, detail)
            chosen, scope = self._scope(purpose, columns, detail)
            if isinstance(target, Path):
                detail["file"] = target.name
            shown = None if self.caller.sees_personal_data else mask_profile
            written = evaluate.export(self.platform.warehouse, segment, target, fmt, scope, chosen, shown)
            detail["customers"] = written
            return written

    def fields(self) -> list[dict[str, Any]]:
        """The fields conditions may name, with their operators and, where they are known, their values."""
        self.caller.require(READ)
        known = self.platform.segment_values()
        return [{"field": name, "kind": f.kind, "table": f.table.name, "operators": list(OPERATORS[f.kind]), "values": list(known.fields.get(name, ()))} for name, f in FIELDS.items()]

    @contextmanager
    def _audited(self, scope: str, action: str, target: str, detail: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """The audit record's detail for one call; the scope check is inside it, so a refusal is audited too."""
        with audited(self.platform.audit, self.caller, action, target, detail) as found:
            self.caller.require(scope)
            yield found

    def resolve(self, subject: Subject, detail: dict[str, Any]) -> Segment:
        """The saved segment or the definition, checked; ``detail`` (the caller's audit record) names
        it and says which it was. For services that work on a segment's members (value forecasts)."""
        detail["saved"] = saved = isinstance(subject, str)
        segment = self._checked(_stored(lambda: self.platform.segments.written(subject)) if saved else subject, written=not saved)
        detail["target"] = segment.name
        return self._expanded(segment)

    def _checked(self, definition: Definition, written: bool) -> Segment:
        """The definition validated as written; ``written``: by this caller (not a saved segment read
        back), who may test personal data in it only with ``pii:read`` (``cdp.segments.personal``;
        the saved segments it refers to hold their writers' conditions)."""
        segment = definition if isinstance(definition, Segment) else parse_segment(definition)
        if written:
            self.caller.may_test_personal_data(personal_conditions(segment))
        return self.platform.segments.checked(segment)

    def _expanded(self, segment: Segment) -> Segment:
        """The segment as evaluated: the saved segments it refers to expanded (``cdp.segments.references``)."""
        return _stored(lambda: self.platform.segments.expand(segment))

    def _scope(self, purpose: str | None, columns: list[str] | None, detail: dict[str, Any]) -> tuple[list[str], ConsentScope]:
        """The columns and the consent scope of a member list: contact data needs a purpose, unless
        the caller sees it masked anyway."""
        chosen = columns or evaluate.MEMBER_COLUMNS
        detail["pii"] = pii = self.caller.sees_personal_data
        return chosen, scope_for(self.platform.settings.consent, purpose, chosen if pii else [])

    def _count(self, segment: Segment, purpose: str | None) -> int:
        return evaluate.count(self.platform.warehouse, segment, consent=scope_for(self.platform.settings.consent, purpose, []))

    def _shown(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return rows if self.caller.sees_personal_data else [mask_profile(row) for row in rows]



def _stored(work: Callable[[], T]) -> T:
    """``work`` on the store, its refusals as the service's: ``NoSuchSegment`` is ``NotFound``, ``SegmentExists`` and ``SegmentInUse`` a ``Conflict``."""
    try:
        return work()
    except NoSuchSegment as missing:
        raise as_kind(NotFound, missing) from None
    except (SegmentExists, SegmentInUse) as taken:
        raise as_kind(Conflict, taken) from None


def columns_from(text: str | None) -> list[str] | None:
    """Profile columns as every door takes them: comma-separated (``customer_id,emails``); none: the default ones."""
    chosen = [c.strip() for c in (text or "").split(",") if c.strip()]
    return chosen or None


def _named(definition: Definition, name: str) -> Definition:
    """The definition under ``name`` (the one being updated); a different name in it is refused: a
    segment is not renamed, it is created under the new name."""
    given = definition.name if isinstance(definition, Segment) else definition.get("name")
    if given is not None and given != name:
        params = {"given": str(given)[:100], "name": name[:100]}
        problem = Problem("name", "name_differs", params, english("name_differs", params))
        raise SegmentInvalid(f"invalid segment: name: {problem.text}", (problem,))
    return definition if isinstance(definition, Segment) else {**definition, "name": name}


def _name_of(subject: Subject) -> str:
    """The audit target before the subject is checked: a saved name as asked (cut short), a definition as such."""
    return subject[:200] if isinstance(subject, str) else "(definition)"


def _within(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise refusal(CdpError, "not_between", field=name, given=value, low=low, high=high)
