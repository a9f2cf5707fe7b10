"""A segment definition's problems as codes with parameters, so each door can word them: the CLI and
the HTTP API show the English text (``english``), the console its catalogues' ``segment_error.<code>``
in the reader's language (docs/console.md "Languages").

``ENGLISH`` is every code the segment checks give; pydantic's own checks (a missing key, a number
out of range) keep pydantic's type as their code and its context as their parameters.
"""

from typing import Any

from cdp.segments.suggest import hint

ENGLISH: dict[str, str] = {
    "unknown_field": "unknown field {given!r}{did_you_mean}; known: {known}",
    "op_not_allowed": "{field} ({kind}) takes one of {allowed}, not {op!r}",
    "takes_no_value": "{what} takes no value",
    "takes_pair": "{what} takes [low, high]",
    "low_above_high": "{what}: low is above high",
    "takes_list": "{what} takes a non-empty list of texts",
    "takes_text": "{what} takes a text",
    "takes_number": "{what} takes a number",
    "takes_time": "{what} takes a date or time like 2025-10-01 or 2025-10-01T08:00:00Z",
    "time_range": "{what}: a time from {earliest} to {latest}",
    "days_range": "{what} takes a number of days above 0 and at most {most:,}",
    "too_many_conditions": "{given:,} conditions; a segment has at most {most}",
    "too_many_properties": "{given:,} event properties compared; a segment compares at most {most} in all",
    "too_deep": "all, any and not are nested more than {most} deep here",
    "no_purpose": "no purpose {given!r}{did_you_mean} (known: {known})",
    "unknown_event": "unknown event type {given!r}; known: {known}",
    "window_twice": "give within_days or between, not both",
    "between_order": "between: the start must come before the end",
    "at_most_below": "at_most is below at_least",
    "no_value": "{field} has no value {given!r}{did_you_mean} (known: {known})",
    "no_tag": "no tag {given!r}{did_you_mean} (known: {known})",
    "no_saved_segment": "no saved segment {given!r}",
    "built_on_built": "{given!r} is built on saved segments itself; build on the segments it is built on",
    "referred_invalid": "the saved segment {given!r} is no longer valid: {problem}",
    "built_on_itself": "a segment cannot be built on itself",
    "built_on_by_others": "the segment(s) {users} are built on this one, so it cannot be built on saved segments itself",
    "breaks_user": "the segment {user!r} is built on this one and would become invalid: {problem}",
    "name_differs": "{given!r} differs from the segment being updated, {name!r} (create one under the new name instead)",
}
SUGGESTIONS = "suggestions"  # a parameter: the known values the given one may have meant (``did_you_mean``)


def english(code: str, params: dict[str, Any]) -> str:
    return ENGLISH[code].format(**params, did_you_mean=hint(params.get(SUGGESTIONS, [])))


class Refusal(ValueError):
    """A segment check's refusal: pydantic keeps it (its ``ctx["error"]``), so ``parse_segment`` finds
    the code and parameters behind the English message."""

    def __init__(self, code: str, **params: Any):
        super().__init__(english(code, params))
        self.code = code
        self.params = params
