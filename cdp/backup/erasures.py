"""The erasure journal: which customers were forgotten, and when, kept outside every backup.

Forgetting deletes a customer's key, but a backup taken earlier still holds it; restoring that
backup would bring the customer back. So every forget also appends a line here, and a restore
re-applies (or, until forgetting is wired in, lists and warns about) every erasure journaled
since the backup started.

Where: ``CDP_ERASURE_JOURNAL`` when set, else ``DATA_DIR/erasures.jsonl``. No backup copies it,
and a forced restore into a data directory keeps it. For a restore onto a new machine, keep a
copy where the backups are not (with the master key, for example) and pass it with
``cdp restore --erasure-journal PATH``. It holds customer ids and times only, no personal data.
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from cdp.config import Settings
from cdp.errors import CdpError

FILE_NAME = "erasures.jsonl"


@dataclass(frozen=True)
class Erasure:
    customer_id: str
    erased_at: datetime


def journal_path(settings: Settings) -> Path:
    configured = os.environ.get("CDP_ERASURE_JOURNAL")
    return Path(configured) if configured else settings.data_dir / FILE_NAME


class ErasureJournal:
    """Append-only JSON Lines; each line is written and fsynced before the forget reports success."""

    def __init__(self, path: Path):
        self.path = path

    def record(self, customer_id: str, erased_at: datetime | None = None) -> Erasure:
        erasure = Erasure(customer_id, erased_at or datetime.now(UTC))
        line = orjson.dumps({"customer_id": erasure.customer_id, "erased_at": erasure.erased_at}, option=orjson.OPT_UTC_Z) + b"\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return erasure

    def since(self, moment: datetime) -> list[Erasure]:
        """The erasures journaled at or after ``moment``, oldest first, one per customer."""
        found: dict[str, Erasure] = {}
        for erasure in self._read():
            if erasure.erased_at >= moment:
                found.setdefault(erasure.customer_id, erasure)
        return sorted(found.values(), key=lambda e: e.erased_at)

    def _read(self) -> list[Erasure]:
        if not self.path.is_file():
            return []
        erasures = []
        for number, line in enumerate(self.path.read_bytes().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
                erased_at = datetime.fromisoformat(record["erased_at"])
                if erased_at.tzinfo is None:
                    raise ValueError("erased_at has no time zone")
                erasures.append(Erasure(str(record["customer_id"]), erased_at))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                raise CdpError(f"{self.path}:{number}: not an erasure record ({type(error).__name__}: {error})") from None
        return erasures
