"""A merged-away customer's projection state on its way to the survivor (``absorb`` messages).

The personal part of the profile, what ``projections.profile.erase`` replaces (identifiers, when
each was first seen, traits and their history), travels sealed with the data key of the first of
the customer's identifiers the ``Sealer`` would choose for its events, bound to the absorbed
customer's id; counts and facts travel in clear, so the topic holds no personal value in clear.
The customer's identifiers are all in the relay's identity graph under the survivor, so
forgetting the survivor shreds that key. A worker that opens the state after that (an absorb
still travelling while the customer was forgotten, or read again later) folds in its erased form:
``erase`` under the erasure token, the same as the state erased in PostgreSQL.
"""

from copy import deepcopy

from cdp.privacy.keystore import Shredded
from cdp.privacy.sealing import SEALED, Sealer, erased_user_id
from projections.profile import Profile, erase
from schemas import PERSON_ID_TYPES

PERSONAL = ("ids", "id_seen", "traits", "trait_history")


def seal(sealer: Sealer, profile: Profile) -> dict:
    """The profile as an absorb message carries it: personal part sealed, accounts and counts in clear."""
    state = {name: deepcopy(value) for name, value in profile.items() if name not in PERSONAL}
    ids, seen = profile["ids"], profile["id_seen"]
    subjects = [f"{kind}:{value}" for kind in PERSON_ID_TYPES for value in ids[kind]]
    state["ids"] = {"account_id": list(ids["account_id"])}
    state["id_seen"] = {key: ms for key, ms in seen.items() if key.startswith("account_id:")}
    state["first_id_seen"] = min(seen.values(), default=None)
    state[SEALED] = sealer.seal_secret(subjects, {name: profile[name] for name in PERSONAL}, _bound(profile))
    return state


def open_state(sealer: Sealer, state: dict) -> Profile:
    """The profile back (in place), or its erased form if its key was shredded."""
    secret = sealer.open_secret(state.pop(SEALED), _bound(state))
    first = state.pop("first_id_seen")
    if isinstance(secret, Shredded):
        user_id = erased_user_id(secret.token)
        if first is not None:  # erase keeps the time the first identifier was seen
            state["id_seen"][f"user_id:{user_id}"] = first
        erase(state, user_id)
    else:
        state.update(secret)
    return state


def _bound(profile: dict) -> str:
    return f"absorb/{profile['customer_id']}"
