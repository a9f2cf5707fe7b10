"""Marks the fields that hold personal data.

A field typed ``Personal[str]`` (or wrapped in ``Personal[...]``) carries ``x-personal-data: true``
in its JSON Schema. The privacy layer encrypts exactly these fields per customer, so stored events
never need migrating when a person is forgotten (crypto-shredding).
"""

import types
from typing import Annotated, Any, Union, get_args, get_origin

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


def personal_paths(model: type[BaseModel]) -> list[tuple[str, ...]]:
    """Paths (field names from the model down) of every personal-data value in ``model``.

    Nested models are followed; a path stops at a list or tuple of models that holds personal data
    (the whole sequence counts as personal), e.g. ``("identifiers", "social")``.
    """
    paths: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        if is_personal(field):
            paths.append((key,))
            continue
        for nested, in_sequence in _models_in(field.annotation):
            inner = personal_paths(nested)
            if inner:
                paths.extend([(key,)] if in_sequence else [(key, *p) for p in inner])
    return sorted(set(paths))


def _models_in(annotation: Any, in_sequence: bool = False) -> list[tuple[type[BaseModel], bool]]:
    """The models an annotation holds (through Optional, unions, lists, tuples), and whether in a sequence."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, in_sequence)]
    origin = get_origin(annotation)
    if origin is None:
        return []
    sequence = in_sequence or origin in (list, tuple, set, frozenset)
    if origin not in (Union, types.UnionType, Annotated, list, tuple, set, frozenset):
        return []
    return [found for arg in get_args(annotation) for found in _models_in(arg, sequence)]


__all__ = ["PERSONAL_DATA_KEY", "Personal", "PersonalData", "is_personal", "personal_fields", "personal_paths"]
