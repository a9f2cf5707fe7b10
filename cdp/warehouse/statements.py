"""Statement text checks: one statement per query, one-line error messages."""

from cdp.errors import QueryRefused


def single_statement(sql: str) -> str:
    """The statement without trailing semicolons; refuses text holding more than one statement.

    A server's native protocol refuses such text with a parse error; this says why, before it is sent.
    """
    text = sql.strip().rstrip(";").rstrip()
    quote = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif text.startswith("--", i) or text.startswith("#", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 1
        elif ch == ";":
            raise QueryRefused("refused: one statement at a time: the query holds a ';' outside quotes")
        i += 1
    return text


def first_line(message: str) -> str:
    """A ClickHouse error as one line, without its version suffix and stack trace."""
    message = message.strip().splitlines()[0] if message.strip() else "query failed"
    return message.split(" (version ")[0].split(". Stack trace")[0]


def quote_string(text: str) -> str:
    """A ClickHouse string literal (for DDL comments and literal arrays; never for user values in SQL)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
