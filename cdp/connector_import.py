"""``cdp import``: a tool's export file (CSV or JSON Lines) through its connector."""

from pathlib import Path

from cdp.errors import CdpError
from cdp.platform import Platform
from ingestion.jsonl import ImportReport
from ingestion.sdk import load_connector, read_file_items, sort_records
from ingestion.validation import Invalid, now


def import_file(platform: Platform, connector_name: str, path: Path, source_name: str) -> ImportReport:
    try:
        connector = load_connector(connector_name)
    except Invalid as error:
        raise CdpError(str(error)) from None
    source = platform.sources.by_name(source_name)
    if source is None:
        raise CdpError(f"--source: no source is named {source_name!r} (add it with `cdp sources add {source_name} --kind {connector.source_kind} --connector {connector.name}`)")
    kind = "csv" if path.suffix.lower() == ".csv" else "jsonl"
    if kind not in connector.formats:
        raise CdpError(f"{path.name}: connector {connector.name!r} reads {', '.join(connector.formats)}, not {kind}")
    items = read_file_items(path.read_bytes(), path.name)
    limits = platform.settings.collector.limits_for(source.name)
    report = ImportReport(lines=len(items))
    step = platform.settings.batch_size
    for start in range(0, len(items), step):
        result = sort_records(connector, items[start : start + step], source.name, now(), f"import:{connector.name}:{path.name}", limits, start=start)
        platform.dead_letter(result.letters)
        stored, duplicates = platform.append(result.events) if result.events else (0, 0)
        report.stored += stored
        report.duplicates += duplicates
        report.rejected.extend((index + 1, letter.reason) for index, letter in result.rejected)
    return report
