"""``file``: each message a JSON line appended to ``DATA_DIR/outbound/FILE_NAME`` for another system
to collect (the file a batch tool or a log shipper picks up).

Only a file name is configured, never a path, so no door can make the platform write elsewhere.
Each line is flushed to disk before the send counts as delivered; a dispatcher killed between the
write and its record writes the line again on the retry, so readers deduplicate by ``action_id``
(each line holds it). A Kafka sink is not built: see docs/activation.md.
"""

import os
from typing import Annotated

import orjson
from pydantic import Field

from cdp.activation.destinations import Destination, DestinationSettings, Message, Retryable, Sent


class FileSettings(DestinationSettings):
    file_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}\.jsonl$", description="A file name ending in .jsonl, written in DATA_DIR/outbound/.")]


class JsonLinesFile(Destination):
    kind = "file"
    Settings = FileSettings

    def send(self, message: Message) -> Sent:
        settings: FileSettings = self.settings  # type: ignore[assignment]
        path = self.context.outbound_dir / settings.file_name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, orjson.dumps(message.body()) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as error:
            raise Retryable(f"cannot write {settings.file_name}: {error.strerror}") from None
        return Sent(delivered=True, detail=f"appended to {settings.file_name}")
