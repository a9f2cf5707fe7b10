"""Tool export files through `cdp import`, as a user runs it: CSV and JSON Lines per source kind."""

import csv
import io
from pathlib import Path

import orjson

from cdp.config import load_settings
from cdp.platform import Platform
from ingestion.connectors.delighted import DelightedResponsesExport
from ingestion.connectors.freshdesk import FreshdeskTicketExport
from ingestion.connectors.hubspot import HubSpotDealExport
from ingestion.connectors.x_mentions import XMentions
from tests.cli import cdp


def write_csv(path: Path, rows: list[dict]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_exports_of_each_kind_import_and_reimport_idempotently(tmp_path: Path):
    data = tmp_path / "data"
    files = {
        "freshdesk-tickets": ("helpdesk", "service", write_csv(tmp_path / "tickets.csv", list(FreshdeskTicketExport.examples))),
        "hubspot-deals": ("crm", "sales", write_csv(tmp_path / "deals.csv", list(HubSpotDealExport.examples))),
        "delighted-nps": ("nps", "survey", write_csv(tmp_path / "nps.csv", list(DelightedResponsesExport.examples))),
        "x-mentions": ("x", "social", tmp_path / "mentions.jsonl"),
    }
    (tmp_path / "mentions.jsonl").write_bytes(b"\n".join(orjson.dumps(e) for e in XMentions.examples) + b"\n")
    for connector, (source, kind, path) in files.items():
        added = cdp("sources", "add", source, "--kind", kind, "--connector", connector, data_dir=data)
        assert added.returncode == 0, added.stderr
        first = cdp("import", connector, str(path), "--source", source, data_dir=data)
        assert first.returncode == 0, first.stderr
        again = cdp("import", connector, str(path), "--source", source, data_dir=data)
        assert b" 0 stored" in again.stdout, again.stdout
    with Platform(load_settings(data_dir=data)) as platform:
        stored = [orjson.loads(n.state) for n in platform.events.read(0, 1000)]
    assert {e["source_kind"] for e in stored} == {"service", "sales", "survey", "social"}
    assert len(stored) == 4 + 3 + 2 + 2  # tickets: opened, responded, resolved + opened


def test_a_bad_row_is_reported_by_number_and_kept(tmp_path: Path):
    data = tmp_path / "data"
    rows = [*DelightedResponsesExport.examples, {**DelightedResponsesExport.examples[0], "Response ID": "9", "Score": "11"}]
    path = write_csv(tmp_path / "nps.csv", rows)
    cdp("sources", "add", "nps", "--kind", "survey", "--connector", "delighted-nps", data_dir=data)
    result = cdp("import", "delighted-nps", str(path), "--source", "nps", data_dir=data)
    assert result.returncode == 1
    assert "nps.csv:3: delighted-nps payload: Score: Input should be less than or equal to 10" in result.stderr.decode()
    listed = cdp("deadletter", "list", "--format", "csv", data_dir=data)
    assert b"import:delighted-nps:nps.csv#2" in listed.stdout


def test_wrong_connector_or_source_is_a_clear_error(tmp_path: Path):
    path = write_csv(tmp_path / "nps.csv", list(DelightedResponsesExport.examples))
    unknown = cdp("import", "nope", str(path), "--source", "x", data_dir=tmp_path / "data")
    assert unknown.returncode == 2 and b"unknown connector 'nope'" in unknown.stderr
    no_source = cdp("import", "delighted-nps", str(path), "--source", "x", data_dir=tmp_path / "data")
    assert no_source.returncode == 2 and b"error: source: no source is named 'x'" in no_source.stderr
