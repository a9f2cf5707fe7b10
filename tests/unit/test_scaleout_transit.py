"""An absorb message's state: personal part sealed in transit, opened as it was, or erased once its key is shredded."""

from copy import deepcopy

import orjson
import pytest

from cdp.config import Settings
from cdp.privacy.keystore import KeyStore
from cdp.privacy.sealing import Sealer, erased_user_id
from cdp.scaleout import transit
from projections.profile import empty_profile, erase

EMAIL = "ines.transit@example.org"


@pytest.fixture
def keys(tmp_path) -> KeyStore:
    return KeyStore(tmp_path / "keys.sqlite", b"a test master key of some length")


def profile() -> dict:
    p = empty_profile("c-1")
    p["ids"] |= {"email": [EMAIL], "anonymous_id": ["anon-1"], "account_id": ["acme"]}
    p["id_seen"] = {f"email:{EMAIL}": 2000, "anonymous_id:anon-1": 1000, "account_id:acme": 3000}
    p["traits"] = {"name": ["Ines Transit", 2000, 2]}
    p["trait_history"] = {"name": [[2000, 2, "Ines Transit"]]}
    p["first_seen"], p["last_seen"], p["revenue"] = 1000, 3000, 42.0
    return p


def test_the_personal_part_travels_sealed_and_opens_as_it_was(keys: KeyStore):
    sealer = Sealer(keys, Settings().identity)
    state = transit.seal(sealer, profile())
    wire = orjson.dumps(state)
    assert EMAIL.encode() not in wire and b"Ines" not in wire and b"anon-1" not in wire
    assert state["revenue"] == 42.0  # counts in clear
    assert transit.open_state(sealer, orjson.loads(wire)) == profile()


def test_once_its_key_is_shredded_it_opens_as_the_erased_profile(keys: KeyStore):
    sealer = Sealer(keys, Settings().identity)
    state = orjson.loads(orjson.dumps(transit.seal(sealer, profile())))
    assert keys.shred(keys.subject_key_ids([f"email:{EMAIL}"]), "tok") == 1
    expected = deepcopy(profile())
    erase(expected, erased_user_id("tok"))
    assert transit.open_state(sealer, state) == expected
