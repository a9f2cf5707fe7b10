"""Two languages, English and 简体中文: one message catalogue per language (``messages/*.toml``),
the language a browser asks for (its cookie from the switch first, then ``Accept-Language``), and
dates and numbers written the locale's way (Babel's CLDR data).

Names the projections give (lifecycle stages, value tiers, tags, churn levels, trait names, ...) are
translated under ``<kind>.<name>``; a name the catalogue does not know (a tag an operator configured,
a custom trait) is shown as it is. Lifecycle causes, churn reasons (now and in the churn history)
and merge reasons come as a code with parameters (projections/causes.py) and are worded under
``cause.<code>``; a row written before codes shows its stored English text.
So are a service's problems with a request (``segment_error.<code>``, cdp/segments/problems.py)
and the refusals of the services and of the console's forms (``refusal.<code>``, cdp/refusals.py).
A unit test checks that both catalogues have the same keys, that every key the templates use exists
and that every cause and refusal code has its words.
"""

import tomllib
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from cdp.errors import Problem
from cdp.segments.problems import SUGGESTIONS
from projections.causes import WEIGHT

LANGUAGES = {"en": "en", "zh-CN": "zh_CN"}  # ours → Babel's locale
DEFAULT = "en"
LANG_COOKIE = "cdp_lang"
MESSAGES = Path(__file__).parent / "messages"
NAMED_PARAMS = {"id_types": "id_type", "events": "event_type"}  # a parameter whose values are names, and the kind the catalogue words them under


@cache
def catalogue(language: str) -> dict[str, str]:
    """The language's messages, their TOML sections flattened to dotted keys (``nav.customers``)."""
    with (MESSAGES / f"{language}.toml").open("rb") as file:
        return _flattened(tomllib.load(file))


def _flattened(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat |= _flattened(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def chosen_language(cookie: str | None, accept_language: str | None) -> str:
    """The switch's choice, else the first language of ``Accept-Language`` we have (by its weight), else English."""
    if cookie in LANGUAGES:
        return cookie
    wanted = []
    for order, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, weight = part.strip().partition(";q=")
        try:
            q = float(weight) if weight else 1.0
        except ValueError:
            continue
        wanted.append((-q, order, tag.strip().lower()))
    for _, _, tag in sorted(wanted):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


class Translator:
    """A page's words and formats in one language; templates call it as ``t("nav.customers")``."""

    def __init__(self, language: str):
        self.language = language
        self.locale = LANGUAGES[language]
        self.messages = catalogue(language)

    def __call__(self, key: str, **values: Any) -> str:
        text = self.messages[key]
        return text.format(**values) if values else text

    def name(self, kind: str, value: Any) -> str:
        """A projection's name (``stage``, ``new``) in this language, or as it is when not in the catalogue."""
        return self.messages.get(f"{kind}.{value}", str(value))

    def cause(self, code: str, params: str, english: str) -> str:
        """A lifecycle cause or churn reason as stored (its code, its parameters' JSON, its English
        text) in this language, numbers and dates the locale's way; the English text when the
        catalogue has no words for the code (none stored before codes) or they do not fit."""
        words = self.messages.get(f"cause.{code}")
        try:
            values = orjson.loads(params) if words else None
            if not isinstance(values, dict):
                return english
            weight = values.pop(WEIGHT, None)
            text = words.format(**{name: self._param(name, v) for name, v in values.items()})
        except (ValueError, KeyError, IndexError):
            return english
        return text if weight is None else f"{text} (+{weight})"

    def _param(self, name: str, value: Any) -> str:
        """A cause's or a refusal's parameter in this language: a number or a date the locale's way, a list of names each translated (when ``NAMED_PARAMS`` says of what kind)."""
        if isinstance(value, list):
            return self("cause.list_separator").join(self.name(NAMED_PARAMS.get(name, name), v) for v in value)
        return self.number(value, 3) if isinstance(value, int | float) else self.when(value)

    def causes(self, codes: list[str], params: list[str], english: list[str]) -> list[str]:
        """``cause`` of each reason of a row that stores them as arrays (``churn_risk``)."""
        if len(codes) != len(english) or len(params) != len(english):  # a row written before codes
            return english
        return [self.cause(*reason) for reason in zip(codes, params, english, strict=True)]

    def refusal(self, error: Exception) -> str:
        """A service's or the console's refusal in this language: each of its problems worded (a
        segment's, a page's parameters), else its code's words (``refusal.<code>``, cdp/refusals.py),
        else (no code, or words that do not fit) its English message."""
        problems = getattr(error, "problems", ())
        if problems:
            return "; ".join(f"{p.path}: {self.problem(p)}" for p in problems)
        words = self.messages.get(f"refusal.{getattr(error, 'code', '')}")
        try:
            return str(error) if words is None else words.format(**{name: self._param(name, v) for name, v in error.params.items()})
        except (KeyError, IndexError, ValueError):
            return str(error)

    def problem(self, problem: Problem) -> str:
        """A service's problem with a request in this language (``segment_error.<code>``), else its English text."""
        words = self.messages.get(f"segment_error.{problem.code}")
        if words is None:
            return problem.text
        values = {name: self._worded(v) for name, v in problem.params.items() if name != SUGGESTIONS}
        close = problem.params.get(SUGGESTIONS) or []
        hint = self("segment_error.did_you_mean", names=self("segment_error.or").join(repr(c) for c in close)) if close else ""
        try:
            return words.format(**values, did_you_mean=hint)
        except (KeyError, IndexError, ValueError):
            return problem.text

    def _worded(self, value: Any) -> Any:
        """A problem's parameter as this language shows it: a number, or a problem it holds (the one a
        save would cause in a segment built on this one) with its path."""
        if isinstance(value, Problem):
            return f"{value.path}: {self.problem(value)}"
        return self.number(value, 3) if isinstance(value, int | float) else value

    def number(self, value: Any, digits: int = 2) -> str:
        if value is None or value == "":
            return ""
        if not isinstance(value, int | float):
            return str(value)
        return format_decimal(value, format=f"#,##0.{'#' * digits}" if digits else "#,##0", locale=self.locale)

    def when(self, value: Any) -> str:
        """A date or a time (or its ISO text) the locale's way; anything else as it is."""
        if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
            try:
                value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, datetime):
            return format_datetime(value, "medium", locale=self.locale)
        if isinstance(value, date):
            return format_date(value, "medium", locale=self.locale)
        return "" if value is None else str(value)
