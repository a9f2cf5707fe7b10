"""Events from files, for every door: JSON Lines of event envelopes (``cdp ingest``) and a tool's
export through its connector (``cdp import``). Bad lines and records are kept as dead letters;
each ingest is audited with its counts, whatever its outcome. An administrator's act.
"""

from collections.abc import Callable, Iterable
from pathlib import Path

from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.services import Caller
from cdp.services.audited import audited
from ingestion.jsonl import ImportReport, import_lines
from ingestion.sdk import load_connector, read_file_items, sort_records
from ingestion.validation import Invalid, now

ADMIN = "admin"
MAX_NAME = 200  # of a name as the audit log keeps it
Progress = Callable[[int], None]  # told how many bytes each batch consumed


class IngestService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform, self.caller = platform, caller

    def ingest_lines(self, lines: Iterable[bytes], origin: str, on_batch: Progress = lambda n: None) -> ImportReport:
        """Stores every valid line (an event envelope as JSON) of ``lines``; ``origin`` names them in dead letters."""
        with audited(self.platform.audit, self.caller, "events.ingest", origin[:MAX_NAME]) as detail:
            self.caller.require(ADMIN)
            settings = self.platform.settings
            report = import_lines(lines, self.platform, origin, settings.batch_size, on_batch, settings.earliest_imported_event_time)
            detail.update(_counts(report))
            return report

    def ingest_file(self, path: Path, on_batch: Progress = lambda n: None) -> ImportReport:
        """``ingest_lines`` of a JSON Lines file."""
        if not path.is_file():
            raise CdpError(f"{path}: no such file")
        with path.open("rb") as handle:
            return self.ingest_lines(handle, path.name, on_batch)

    def import_file(self, connector_name: str, path: Path, source_name: str) -> ImportReport:
        """A tool's export (CSV or JSON Lines) through its connector, as records of the source ``source_name``."""
        with audited(self.platform.audit, self.caller, "events.import", path.name[:MAX_NAME], {"connector": connector_name[:MAX_NAME], "source": source_name[:MAX_NAME]}) as detail:
            self.caller.require(ADMIN)
            if not path.is_file():
                raise CdpError(f"{path}: no such file")
            try:
                connector = load_connector(connector_name)
            except Invalid as error:
                raise CdpError(str(error)) from None
            source = self.platform.sources.by_name(source_name)
            if source is None:
                raise CdpError(f"source: no source is named {source_name[:MAX_NAME]!r} (add it with `cdp sources add {source_name[:MAX_NAME]} --kind {connector.source_kind} --connector {connector.name}`)")
            kind = "csv" if path.suffix.lower() == ".csv" else "jsonl"
            if kind not in connector.formats:
                raise CdpError(f"{path.name}: connector {connector.name!r} reads {', '.join(connector.formats)}, not {kind}")
            report = self._sorted(connector, read_file_items(path.read_bytes(), path.name), source.name, f"import:{connector.name}:{path.name}")
            detail.update(_counts(report))
            return report

    def _sorted(self, connector, items: list, source: str, origin: str) -> ImportReport:
        """Each batch of records split by the connector into events (stored) and dead letters (kept)."""
        platform = self.platform
        limits = platform.settings.collector.limits_for(source)
        report = ImportReport(lines=len(items))
        step = platform.settings.batch_size
        for start in range(0, len(items), step):
            result = sort_records(connector, items[start : start + step], source, now(), origin, limits, start=start, track_mapping=platform.settings.ingestion.track_mapping)
            platform.dead_letter(result.letters)
            stored, duplicates = platform.append(result.events) if result.events else (0, 0)
            report.stored += stored
            report.duplicates += duplicates
            report.rejected.extend((index + 1, letter.reason) for index, letter in result.rejected)
        return report


def _counts(report: ImportReport) -> dict[str, int]:
    return {"lines": report.lines, "stored": report.stored, "duplicates": report.duplicates, "rejected": len(report.rejected)}
