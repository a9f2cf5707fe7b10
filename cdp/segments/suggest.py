"""A "did you mean" hint for a value that is not one of the known ones: first a match after folding
case, spaces, hyphens and underscores ("VIP" → ``vip``, "at risk" → ``at_risk``), then the closest
spellings (difflib)."""

import difflib
import re


def fold(text: str) -> str:
    return re.sub(r"[\s_-]+", "_", text.strip().casefold())


def did_you_mean(value: str, known: list[str] | tuple[str, ...]) -> str:
    """``"; did you mean 'vip'?"``, or ``""`` when nothing is close."""
    return hint(suggestions(value, known))


def hint(close: list[str]) -> str:
    """``"; did you mean 'vip' or 'vvip'?"`` for the ``suggestions``, ``""`` for none."""
    return "; did you mean " + " or ".join(map(repr, close)) + "?" if close else ""


def suggestions(value: str, known: list[str] | tuple[str, ...]) -> list[str]:
    """The known values ``value`` may have meant: the one equal after folding, else up to 3 close spellings."""
    folded = {fold(k): k for k in known}
    if fold(value) in folded:
        return [folded[fold(value)]]
    return [folded[c] for c in difflib.get_close_matches(fold(value), list(folded), n=3, cutoff=0.7)]
