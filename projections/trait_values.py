"""Canonical trait values (docs/domain.md §2): "Shanghai", "上海" and " shanghai shi " are one city.

Customers and tools write one value many ways, and a segment on ``city = "上海"`` or a count by
city must see them as one. Per trait name, ``TraitValues`` says which values mean which canonical
value (its own ``synonyms`` and shipped ``tables``), matched with case and whitespace folded;
``fold_case`` also lower-cases values outside them (gender "Female" → "female"). The profile
applies it as it folds an event's traits in (``projections.profile.apply``), so the profile, its
trait history and everything read from them hold the canonical value, and a rebuild applies a
changed configuration to every event (until then it applies to events processed after the change).
Only text values are normalised; numbers and booleans are kept as sent.
"""

import re
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from projections.places_cn import CITIES, PROVINCES, synonyms

TABLES = {
    "china_provinces": synonyms(PROVINCES, "province"),
    "china_cities": synonyms(CITIES, "city"),
}
Table = Literal["china_provinces", "china_cities"]
_SPACES = re.compile(r"\s+")


def folded(value: str) -> str:
    """How values are matched: case-folded, trimmed, inner runs of white space one space."""
    return _SPACES.sub(" ", value).strip().casefold()


class TraitValues(BaseModel):
    """How one trait's values are made canonical."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tables: list[Table] = Field(default=[], description="Shipped synonym tables: china_provinces, china_cities (canonical: the short simplified-Chinese name, 上海).")
    synonyms: dict[str, list[str]] = Field(default={}, description="Canonical value → values meaning it (matched case- and space-folded); wins over the tables.")
    fold_case: bool = Field(default=False, description="Values outside the synonyms are lower-cased too (else only trimmed, with inner runs of space made one).")

    @model_validator(mode="after")
    def _one_meaning_per_value(self) -> "TraitValues":
        given: dict[str, str] = {}
        for canonical, names in self.synonyms.items():
            for name in (canonical, *names):
                earlier = given.setdefault(folded(name), canonical)
                if earlier != canonical:
                    raise ValueError(f"synonyms: {name!r} is given for both {earlier!r} and {canonical!r}")
        return self

    @cached_property
    def lookup(self) -> dict[str, str]:
        """Folded value → canonical value, from the tables then the synonyms."""
        canonical: dict[str, str] = {}
        for table in self.tables:
            canonical.update(_lookup(TABLES[table]))
        return canonical | _lookup(self.synonyms)

    def canonical(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        key = folded(value)
        found = self.lookup.get(key)
        if found is not None:
            return found
        return key if self.fold_case else _SPACES.sub(" ", value).strip()


def _lookup(table: dict[str, list[str]]) -> dict[str, str]:
    return {folded(name): canonical for canonical, names in table.items() for name in (canonical, *names)}


_PLACES = {"city": ["china_cities"], "province": ["china_provinces"], "state": ["china_provinces"], "region": ["china_provinces"]}

# The defaults (docs/domain.md §2): places under their usual names and Segment's address.* traits, and gender.
DEFAULT_TRAIT_VALUES: dict[str, dict[str, Any]] = {
    **{name: {"tables": tables} for name, tables in _PLACES.items()},
    **{f"address.{name}": {"tables": tables} for name, tables in _PLACES.items()},
    "gender": {"fold_case": True, "synonyms": {"female": ["f", "woman", "女", "女性"], "male": ["m", "man", "男", "男性"]}},
}


class TraitNormalisation(RootModel[dict[str, TraitValues]]):
    """``[profile.trait_values.city]`` and so on: trait name → ``TraitValues``. Given traits are
    added to ``DEFAULT_TRAIT_VALUES`` (a given trait replaces its default; ``{}`` leaves it as sent,
    trimmed)."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _with_defaults(cls, given: Any) -> Any:
        return {**DEFAULT_TRAIT_VALUES, **given} if isinstance(given, dict) else given

    @cached_property
    def by_trait(self) -> dict[str, TraitValues]:
        return dict(self.root)  # a plain dict: the profile asks once per trait of every event

    def canonical(self, name: str, value: Any) -> Any:
        """``value`` of the trait ``name`` in its canonical form (as sent for a trait not configured)."""
        rules = self.by_trait.get(name)
        return value if rules is None else rules.canonical(value)


def default_trait_values() -> TraitNormalisation:
    return TraitNormalisation.model_validate({})
