"""A "did you mean" hint for a value that is not one of the known ones: first a match after folding
case, spaces, hyphens and underscores ("VIP" → ``vip``, "at risk" → ``at_risk``), then the closest
spellings (difflib)."""

import difflib
import re


def fold(text: str) -> str:
    return re.sub(r"[\s_-]+", "_", text.strip().casefold())


def did_you_mean(value: str, known: list[str] | tuple[str, ...]) -> str:
    """``"; did you mean 'vip'?"``, or ``""`` when nothing is close."""
    folded = {fold(k): k for k in known}
    if fold(value) in folded:
        return f"; did you mean {folded[fold(value)]!r}?"
    close = difflib.get_close_matches(fold(value), list(folded), n=3, cutoff=0.7)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(folded[c]) for c in close) + "?"
