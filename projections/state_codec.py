"""A customer's projection state as stored: a profile (``projections.profile``) as MessagePack bytes.

Every batch loads and saves the state of each customer it touches, so its encoding is on the hot
path; MessagePack (msgspec) decodes a profile in about half the time JSON takes and is a quarter
smaller. The embedded state store (``cdp/statestore.py``), the scale-out state
(``cdp/scaleout/state.py``) and the in-memory replay (``projections/replay.py``) all go through
this module, so a profile decodes the same everywhere.

State saved as JSON (before this form) still loads, with no migration: a JSON object starts with
``{``, a MessagePack map never does (its first byte is 0x80-0x8f, 0xde or 0xdf); a customer's state
is written in the binary form the next time a batch changes it.
"""

import msgspec
import orjson

from projections.profile import Profile

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder()
_JSON_OBJECT = ord("{")


def encode(profile: Profile) -> bytes:
    return _ENCODER.encode(profile)


def decode(stored: bytes) -> Profile:
    """A profile saved by ``encode``, or as JSON by an earlier version."""
    if stored[0] == _JSON_OBJECT:
        return orjson.loads(stored)
    return _DECODER.decode(stored)
