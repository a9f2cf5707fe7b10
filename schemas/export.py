"""Writes the JSON Schema of the envelope (all event types) and of each event type."""

from pathlib import Path

import orjson

from schemas.envelope import ENVELOPE_ADAPTER, ENVELOPE_BY_EVENT_TYPE, SCHEMA_VERSION


def export_json_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    documents = {f"envelope.v{SCHEMA_VERSION}.json": ENVELOPE_ADAPTER.json_schema()}
    for event_type, model in sorted(ENVELOPE_BY_EVENT_TYPE.items()):
        documents[f"{event_type}.v{SCHEMA_VERSION}.json"] = model.model_json_schema()
    written = []
    for name, schema in documents.items():
        path = directory / name
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
        path.write_bytes(orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
        written.append(path)
    return written
