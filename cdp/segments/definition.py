"""Reads a segment definition file: YAML or JSON (JSON is YAML), from a path or standard input."""

import sys
from pathlib import Path

import yaml

from cdp.errors import SegmentInvalid
from cdp.segments.model import Segment, parse_segment


def read_definition(source: str, name: str | None = None) -> Segment:
    """``name`` (when given) overrides the file's own."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise SegmentInvalid(f"{source}: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SegmentInvalid(f"{source}: not YAML or JSON ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise SegmentInvalid(f"{source}: expected a mapping with name and where")
    return parse_segment({**data, "name": name} if name else data)
