"""One vocabulary: the identifier types are defined once (``schemas.identifiers``), and what is
built from them agrees with the envelope's ``Identifiers``."""

import pytest
from pydantic import ValidationError

from projections.identity import IdentityRules
from projections.profile import empty_profile
from schemas import ID_TYPES, PERSON_ID_TYPES, Identifiers


def test_the_person_types_and_the_account_are_the_identifiers_fields():
    assert set(ID_TYPES) == {*PERSON_ID_TYPES, "account_id"} and ID_TYPES == tuple(Identifiers.model_fields)


def test_person_keys_come_in_the_order_of_the_person_types():
    everyone = Identifiers(user_id="u1", email="a@example.com", phone="+8613900000001", social=[{"platform": "x", "handle": "h"}], anonymous_id="d1")
    assert [key.split(":", 1)[0] for key in everyone.person_keys()] == list(PERSON_ID_TYPES)


def test_identity_rules_take_exactly_the_person_types():
    assert sorted(IdentityRules().priority) == sorted(PERSON_ID_TYPES)
    with pytest.raises(ValidationError, match="must list each of user_id, email, phone, social, anonymous_id exactly once"):
        IdentityRules(priority=["user_id", "email"])
    with pytest.raises(ValidationError):
        IdentityRules(max_per_customer={"account_id": 1})  # an account never joins people


def test_a_profile_keeps_a_list_of_every_identifier_type():
    assert tuple(empty_profile("c1")["ids"]) == ID_TYPES
