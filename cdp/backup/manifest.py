"""A backup's manifest (``manifest.json``, written last) and the check of a backup against it.

A backup without a manifest is incomplete; a file missing, of another size or with another
SHA-256 than the manifest says is damaged or tampered with. Every failure names the file.
"""

from datetime import datetime
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from cdp.backup.copies import sha256
from cdp.errors import CdpError
from schemas import describe

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class BackedUpFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    size: int
    sha256: str


class EventStoreState(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["sqlite", "postgres"]
    last_position: int  # the last event in the backup; a rebuild of the restore ends here


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1]
    started_at: datetime  # erasures journaled from this moment on are re-applied by a restore
    created_at: datetime  # when the last file was copied
    platform_version: str
    event_store: EventStoreState
    files: tuple[BackedUpFile, ...]  # in the order they were copied

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_INDENT_2)


def describe_file(path: Path) -> BackedUpFile:
    return BackedUpFile(name=path.name, size=path.stat().st_size, sha256=sha256(path))


def read_manifest(backup: Path) -> Manifest:
    if not backup.is_dir():
        raise CdpError(f"{backup}: no such backup directory")
    path = backup / MANIFEST
    if not path.is_file():
        raise CdpError(f"{path}: missing; {backup} is not a complete backup (was it interrupted?)")
    try:
        raw = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise CdpError(f"{path}: not valid JSON ({error})") from None
    version = raw.get("format_version") if isinstance(raw, dict) else None
    if version != FORMAT_VERSION:
        raise CdpError(f"{path}: format_version {version!r} is not supported (this cdp reads format {FORMAT_VERSION})")
    try:
        return Manifest.model_validate(raw)
    except ValidationError as error:
        raise CdpError(f"{path}: {describe(error)}") from None


def verify(backup: Path) -> Manifest:
    """Checks every file the manifest lists; raises naming the first one that does not match."""
    manifest = read_manifest(backup)
    for entry in manifest.files:
        if entry.name in ("", ".", "..") or entry.name != Path(entry.name).name:
            raise CdpError(f"{backup / MANIFEST}: file name {entry.name!r} is not a plain file name")
        path = backup / entry.name
        if not path.is_file():
            raise CdpError(f"{path}: missing from the backup")
        size = path.stat().st_size
        if size != entry.size:
            raise CdpError(f"{path}: {size:,} bytes, the manifest says {entry.size:,}: the file is damaged or was changed")
        if sha256(path) != entry.sha256:
            raise CdpError(f"{path}: checksum mismatch (SHA-256 differs from the manifest): the file is damaged or was changed")
    return manifest
