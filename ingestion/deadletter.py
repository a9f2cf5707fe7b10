"""What the dead-letter store keeps: input that could not become an event, with its reason."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DeadLetter:
    source: str  # the source it claimed to come from, or "unknown"
    origin: str  # where it came from, e.g. "events.jsonl:17"
    reason: str  # what was wrong, naming the field
    payload: bytes  # the input exactly as received
