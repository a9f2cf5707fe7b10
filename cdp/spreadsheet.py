"""CSV cells that spreadsheets open as text, never as formulas (docs/architecture.md, invariant
"Customer data is hostile in every view"): shared by segment exports and the CLI's ``--format csv``."""

import re
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+([.][0-9]+)?$")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell a spreadsheet will not run: customer data comes from the internet, and a
    text starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is a formula to Excel,
    LibreOffice and Google Sheets, so it gets a leading ``'`` (OWASP's advice). A plain number such as
    a phone in E.164 (``+8613800138000``) or ``-5`` is left as it is: it cannot run anything, and
    the tools the export feeds need it whole. Lists are joined with ``;``. A spreadsheet whose list
    separator is ``;`` (German, French, ... locales) splits a cell there, so every part after a
    ``;`` is made safe as a cell of its own: ``a;=cmd|...`` would run otherwise."""
    if isinstance(value, list):
        value = ";".join(map(str, value))
    if value is None:
        return ""
    return ";".join(map(_safe, value.split(";"))) if isinstance(value, str) else value


def _safe(part: str) -> str:
    return "'" + part if part.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(part) else part
