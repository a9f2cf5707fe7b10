"""Batch import of JSON Lines files of envelopes: good lines are stored, bad lines dead-lettered.

Every line ends in exactly one place: the event store (or counted as a duplicate of an event
already there) or the dead-letter store with its line number and reason.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from dataclasses import dataclass, field
from typing import Protocol

from ingestion.deadletter import DeadLetter
from ingestion.validation import Invalid, decode_json, now, validate
from schemas import Envelope
from schemas.envelope import EARLIEST


class Sink(Protocol):
    def append(self, events: list[Envelope]) -> tuple[int, int]:
        """Stores events durably; returns (stored, duplicates)."""

    def dead_letter(self, letters: list[DeadLetter]) -> None:
        """Stores rejected input durably."""


@dataclass
class ImportReport:
    lines: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def import_lines(
    lines: Iterable[bytes],
    sink: Sink,
    origin: str,
    batch_size: int = 2000,
    on_batch: Callable[[int], None] = lambda n: None,
    earliest: datetime = EARLIEST,
) -> ImportReport:
    """Validates and stores ``lines``; ``on_batch`` is told how many bytes each batch consumed;
    event times before ``earliest`` are refused."""
    report = ImportReport()
    for good, bad, consumed in _batches(lines, origin, batch_size, earliest):
        report.lines += len(good) + len(bad)
        sink.dead_letter([letter for _, letter in bad])
        stored, duplicates = sink.append(good) if good else (0, 0)
        report.stored += stored
        report.duplicates += duplicates
        report.rejected.extend((number, letter.reason) for number, letter in bad)
        on_batch(consumed)
    return report


def _batches(lines: Iterable[bytes], origin: str, batch_size: int, earliest: datetime) -> Iterator[tuple[list, list, int]]:
    good: list[Envelope] = []
    bad: list[tuple[int, DeadLetter]] = []
    consumed = 0
    received_at = now()
    for number, line in enumerate(lines, start=1):
        consumed += len(line)
        raw = line.strip()
        if not raw:
            continue
        try:
            good.append(validate(decode_json(raw), received_at, earliest=earliest))
        except Invalid as error:
            bad.append((number, DeadLetter(source=_claimed_source(raw), origin=f"{origin}:{number}", reason=str(error), payload=raw)))
        if len(good) + len(bad) >= batch_size:
            yield good, bad, consumed
            good, bad, consumed = [], [], 0
            received_at = now()
    if good or bad or consumed:
        yield good, bad, consumed


def _claimed_source(raw: bytes) -> str:
    try:
        data = decode_json(raw)
    except Invalid:
        return "unknown"
    name = data.get("source_name") if isinstance(data, dict) else None
    return name[:64] if isinstance(name, str) and name else "unknown"
