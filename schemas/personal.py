"""Marks the fields that hold personal data, wholly or in part, and what of a value is public.

A field typed ``Personal[str]`` (or wrapped in ``Personal[...]``) carries ``x-personal-data: true``
in its JSON Schema. A URL typed ``PersonalAfterPath[...]`` is personal after its path (query string
and fragment; scheme, host and path are public), one typed ``PersonalAfterHost[...]`` after its host
(path, query string and fragment); their JSON Schema names the personal parts in ``x-personal-data``.
Values a model does not declare (a payload's custom properties) are personal too: models that
accept them say so with ``UNDECLARED_ARE_PERSONAL`` (``additionalProperties: {x-personal-data:
true}``). The privacy layer encrypts exactly these values per customer, so stored events never need
migrating when a person is forgotten (crypto-shredding), and shows the rest (``public_view``).
"""

import re
import types
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo

PERSONAL_DATA_KEY = "x-personal-data"
UNDECLARED_ARE_PERSONAL = ConfigDict(json_schema_extra={"additionalProperties": {PERSONAL_DATA_KEY: True}})


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

_PUBLIC_PREFIX = {  # an http(s) URL's scheme and host (none with user info), then, for "path", the path; or an absolute path
    "path": re.compile(r"(?:https?://[^/?#@]*(?![^/?#])|(?=/(?!/)))[^?#]*", re.IGNORECASE),
    "host": re.compile(r"https?://[^/?#@]*(?![^/?#])", re.IGNORECASE),
}


class PersonalUrlParts:
    """Metadata marker of a URL whose parts after ``public`` (its path or its host) are personal.

    Only ``http(s)://host...`` URLs without user info (and, when the path is public, absolute paths
    ``/...``) have a public part; any other value (``mailto:``, a bare address) is personal as a whole.
    """

    def __init__(self, public: Literal["path", "host"]):
        self.public = public
        self._prefix = _PUBLIC_PREFIX[public]

    def public_part(self, url: str) -> str | None:
        """``https://shop.example.com/cart?email=…`` without what follows its path (or its host); ``None`` if nothing is public."""
        match = self._prefix.match(url)
        return url[: match.end()] or None if match is not None else None

    def shown(self, url: str, hide: Callable[[str], Any]) -> Any:
        """``url`` with what follows its public part hidden by ``hide``: ``https://shop.example.com/cart?***``."""
        public = self.public_part(url) or ""
        if public == url:
            return url
        return public + url[len(public)] + hide(url[len(public) + 1 :]) if public else hide(url)

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        schema[PERSONAL_DATA_KEY] = "query string, fragment" if self.public == "path" else "path, query string, fragment"
        return schema

    def __repr__(self) -> str:
        return f"PersonalUrlParts({self.public!r})"


class _PartlyPersonalAlias:
    def __init__(self, marker: PersonalUrlParts):
        self._marker = marker

    def __getitem__(self, tp: Any) -> Any:
        return Annotated[tp, self._marker]


PersonalAfterPath = _PartlyPersonalAlias(PersonalUrlParts("path"))
"""``PersonalAfterPath[Url | None]``: a URL whose query string and fragment are personal."""
PersonalAfterHost = _PartlyPersonalAlias(PersonalUrlParts("host"))
"""``PersonalAfterHost[Url | None]``: a URL whose path, query string and fragment are personal (e.g. a referrer)."""


def is_personal(field: FieldInfo) -> bool:
    return any(isinstance(m, PersonalData) for m in field.metadata)


def url_parts(field: FieldInfo) -> PersonalUrlParts | None:
    """The field's marker if it is a partly personal URL."""
    return next((m for m in field.metadata if isinstance(m, PersonalUrlParts)), None)


def personal_fields(model: type[BaseModel]) -> list[str]:
    """Names of the model's fields marked as personal data."""
    return [name for name, field in model.model_fields.items() if is_personal(field)]


def personal_paths(model: type[BaseModel]) -> list[tuple[str, ...]]:
    """Paths (field names from the model down) of every personal-data value in ``model``.

    Nested models are followed; a path stops at a list or tuple of models that holds personal data
    (the whole sequence counts as personal), e.g. ``("identifiers", "social")``.
    """
    return _paths(model, is_personal)


def partly_personal_paths(model: type[BaseModel]) -> list[tuple[str, ...]]:
    """Paths of every partly personal value (URLs, see ``PersonalUrlParts``) in ``model``, as ``personal_paths``."""
    return _paths(model, lambda field: url_parts(field) is not None)


def _paths(model: type[BaseModel], marked: Callable[[FieldInfo], bool]) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        if marked(field):
            paths.append((key,))
            continue
        for nested, in_sequence in _models_in(field.annotation):
            inner = _paths(nested, marked)
            if inner:
                paths.extend([(key,)] if in_sequence else [(key, *p) for p in inner])
    return sorted(set(paths))


def undeclared(value: BaseModel) -> dict[str, Any]:
    """Where ``value`` holds values its model does not declare (extra ones, in it or in the models it holds), as
    pydantic's ``include``/``exclude`` argument (``{"note": True, "items": {"__all__": {"engraving": True}}}``); empty if none."""
    extra = value.__pydantic_extra__
    found: dict[str, Any] = dict.fromkeys(extra, True) if extra else {}
    for name, in_sequence in _holding_models(type(value)):
        held = getattr(value, name)
        if in_sequence:
            inner: dict[str, Any] = {}
            for item in held or ():
                if isinstance(item, BaseModel):  # a field may hold models or other values
                    inner = union(inner, undeclared(item))
            if inner:
                found[name] = {"__all__": inner}
        elif isinstance(held, BaseModel) and (inner := undeclared(held)):
            found[name] = inner
    return found


def union(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two ``include``/``exclude`` arguments as one."""
    merged = dict(a)
    for name, inner in b.items():
        held = merged.get(name)
        merged[name] = union(held, inner) if isinstance(held, dict) and isinstance(inner, dict) else True if held is True else inner
    return merged


def public_view(model: type[BaseModel], data: dict[str, Any], hide: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """``data`` (a JSON dump of ``model``) with only what is public: the values the model marks personal or does not
    declare are left out or, given ``hide``, replaced by ``hide(value)``; partly personal URLs keep their public part."""
    shapes = _public_shapes(model)
    view = {}
    for key, value in data.items():
        shape = shapes.get(key)
        if shape is None:
            if hide is not None:
                view[key] = hide(value)
            continue
        parts, nested = shape
        if parts is not None and isinstance(value, str):
            value = parts.public_part(value) if hide is None else parts.shown(value, hide)
        elif nested is not None and isinstance(value, dict):
            value = public_view(nested, value, hide)
        elif nested is not None and isinstance(value, list):
            value = [public_view(nested, item, hide) if isinstance(item, dict) else item for item in value]
        view[key] = value
    return view


def shown_whole(model: type[BaseModel]) -> frozenset[str]:
    """The keys of ``model``'s fields that a caller without ``pii:read`` sees whole (``public_view``):
    not marked personal and not a partly personal URL. Anything else, undeclared keys included, is
    personal or partly so."""
    return frozenset(key for key, (parts, _) in _public_shapes(model).items() if parts is None)


@cache
def _public_shapes(model: type[BaseModel]) -> dict[str, tuple[PersonalUrlParts | None, type[BaseModel] | None]]:
    """The model's fields not marked personal, by key: the field's URL marker, if any, and the model it holds, if any."""
    return {
        field.alias or name: (url_parts(field), next((nested for nested, _ in _models_in(field.annotation)), None))
        for name, field in model.model_fields.items()
        if not is_personal(field)
    }


@cache
def _holding_models(model: type[BaseModel]) -> tuple[tuple[str, bool], ...]:
    """The model's fields that hold models (in a sequence or not), where undeclared values may be."""
    return tuple((name, found[0][1]) for name, field in model.model_fields.items() if (found := _models_in(field.annotation)))


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


__all__ = [
    "PERSONAL_DATA_KEY",
    "UNDECLARED_ARE_PERSONAL",
    "Personal",
    "PersonalAfterHost",
    "PersonalAfterPath",
    "PersonalData",
    "PersonalUrlParts",
    "is_personal",
    "partly_personal_paths",
    "personal_fields",
    "personal_paths",
    "public_view",
    "undeclared",
    "union",
    "url_parts",
]
