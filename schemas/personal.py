"""Marks the fields that hold personal data.

A field typed ``Personal[str]`` (or wrapped in ``Personal[...]``) carries ``x-personal-data: true``
in its JSON Schema. The privacy layer encrypts exactly these fields per customer, so stored events
never need migrating when a person is forgotten (crypto-shredding).
"""

from typing import Annotated, Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

PERSONAL_DATA_KEY = "x-personal-data"


class PersonalData:
    """Metadata marker placed on personal-data fields by ``Personal[...]``."""

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        schema[PERSONAL_DATA_KEY] = True
        return schema

    def __repr__(self) -> str:
        return "PersonalData()"


class _PersonalAlias:
    def __getitem__(self, tp: Any) -> Any:
        return Annotated[tp, PersonalData()]


Personal = _PersonalAlias()
"""``Personal[str]`` is ``str`` marked as personal data."""


def is_personal(field: FieldInfo) -> bool:
    return any(isinstance(m, PersonalData) for m in field.metadata)


def personal_fields(model: type[BaseModel]) -> list[str]:
    """Names of the model's fields marked as personal data."""
    return [name for name, field in model.model_fields.items() if is_personal(field)]


__all__ = ["PERSONAL_DATA_KEY", "Personal", "PersonalData", "is_personal", "personal_fields"]
