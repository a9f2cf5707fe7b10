"""The one gate for SQL a person wrote (``cdp sql``; later the console and BI through cdp): a single
SELECT over the warehouse's own database, which cannot reach a file, the network or the server's
configuration.

ClickHouse parses the text itself (``parseQueryToJSON``, ClickHouse 26.8+, the text travelling as a
query parameter, so it is never spliced into SQL), and the syntax tree is checked against
allow-lists; anything not on them is refused:
- the statement is one SELECT (UNION, INTERSECT, EXCEPT, WITH and subqueries included), without
  INTO OUTFILE, FORMAT or SETTINGS;
- every table is ``DATABASE.name`` of the warehouse's database, a WITH name in scope (also on the
  right of IN), or one of ``METADATA_TABLES`` (column names, types and comments; no paths, settings
  or data);
- table functions are ``TABLE_FUNCTIONS`` (generated rows, no source);
- functions are those of the ``FUNCTION_CATEGORIES`` ClickHouse files them under
  (``system.functions``), with their aliases and aggregate combinators, plus ``EXTRA_FUNCTIONS``;
  the categories left out hold the functions that read files, settings, dictionaries, the server's
  host and paths, or call models over the network (``file``, ``getSetting``, ``dictGet``,
  ``hostName``, ``aiGenerate``, ...);
- syntax tree nodes are ``NODE_TYPES``.
The server's own walls stand behind it: the query user's readonly profile and grants (SELECT on
the platform's database only; no file, URL or remote table function) and, on the managed server,
a ``user_files_path`` that is empty. But ``readonly`` alone does not stop the scalar ``file()``
function on every server, which is why this module exists.
"""

import re
from dataclasses import dataclass
from typing import Any

import orjson

from cdp.errors import QueryRefused
from cdp.warehouse import Warehouse
from cdp.warehouse.statements import single_statement

NODE_TYPES = frozenset({
    "SelectWithUnionQuery", "SelectIntersectExceptQuery", "SelectQuery", "Subquery", "WithElement",
    "ExpressionList", "Identifier", "Literal", "Function", "QueryParameter", "OrderByElement", "InterpolateElement",
    "WindowDefinition", "WindowListElement", "SampleRatio",
    "TablesInSelectQuery", "TablesInSelectQueryElement", "TableExpression", "TableIdentifier", "TableJoin", "ArrayJoin",
    "Asterisk", "QualifiedAsterisk", "ColumnsRegexpMatcher", "ColumnsListMatcher", "QualifiedColumnsRegexpMatcher",
    "QualifiedColumnsListMatcher", "ColumnsTransformerList", "ColumnsExceptTransformer", "ColumnsReplaceTransformer",
    "ColumnsReplaceTransformerReplacement", "ColumnsApplyTransformer",
})  # fmt: skip
METADATA_TABLES = frozenset({("system", "columns")})
TABLE_FUNCTIONS = frozenset({"numbers", "generate_series", "generateSeries", "values"})
FUNCTION_CATEGORIES = frozenset({
    "Aggregate Functions", "Arithmetic", "Arrays", "Bit", "Bitmap", "Comparison", "Conditional", "Dates and Times",
    "Distance", "Encoding", "Encryption", "Financial", "Geo", "Geo Polygon", "Hash", "IP Address", "JSON", "Logical",
    "Map", "Mathematical", "Null", "NumericIndexedVector", "QBit", "Random Number", "Rounding", "String",
    "String Replacement", "String Search", "String Splitting", "Time Series", "Time Window", "Tuple",
    "Type Conversion", "URL", "UUID",
})  # fmt: skip
# Grammar (lambda, EXISTS, GROUPING), and from the categories "Other" and "Internal" pure functions
# of their arguments (or of the block being read).
EXTRA_FUNCTIONS = frozenset({
    "lambda", "exists", "grouping", "_CAST", "caseWithExpression", "transform", "bar", "materialize", "identity", "ignore", "isConstant",
    "toTypeName", "toColumnTypeName", "byteSize", "visibleWidth", "countDigits", "isDecimalOverflow",
    "formatReadableSize", "formatReadableDecimalSize", "formatReadableQuantity", "formatReadableTimeDelta",
    "parseReadableSize", "parseReadableSizeOrNull", "parseReadableSizeOrZero", "parseTimeDelta",
    "finalizeAggregation", "initializeAggregation", "runningAccumulate", "runningDifference",
    "runningDifferenceStartingWithFirstValue", "neighbor", "getSubcolumn", "variantElement", "variantType",
    "rowNumberInBlock", "rowNumberInAllBlocks", "blockSize", "blockNumber",
})  # fmt: skip
IN_FUNCTIONS = frozenset({"in", "notIn", "globalIn", "globalNotIn", "nullIn", "notNullIn", "globalNullIn", "globalNotNullIn"})


@dataclass(frozen=True)
class Functions:
    """The functions a query may call, as this server names them."""

    exact: frozenset[str]
    case_insensitive: frozenset[str]  # lower-cased
    aggregates: frozenset[str]  # exact and lower-cased
    combinators: tuple[str, ...]  # longest first

    def allows(self, name: str) -> bool:
        if self._known(name):
            return True
        base = name  # an aggregate with combinators: sumIf, uniqExactMerge, COUNTDistinct, avgOrNullIf, ...
        while suffix := next((c for c in self.combinators if base.endswith(c) and len(base) > len(c)), None):
            base = base[: -len(suffix)]
            if base in self.aggregates or base.lower() in self.aggregates:
                return self._known(base)
        return False

    def _known(self, name: str) -> bool:
        return name in self.exact or name.lower() in self.case_insensitive


class QuerySandbox:
    """``QuerySandbox(warehouse).query(sql, params)`` runs ``sql`` if it passes the checks, else raises ``QueryRefused``."""

    def __init__(self, warehouse: Warehouse):
        self._warehouse = warehouse
        self._functions: Functions | None = None

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """``params``: server-side ``{name:Type}`` parameters, as ``Warehouse.query`` takes them."""
        return self._warehouse.query(self.check(sql), params)

    def check(self, sql: str) -> str:
        """The statement as it will run; raises ``QueryRefused`` naming what is not allowed."""
        text = single_statement(sql)
        _Check(self._warehouse.database, self._catalog()).statement(self._parse(text))
        return text

    def _parse(self, text: str) -> dict[str, Any]:
        try:
            row = self._warehouse.query("SELECT {sql:String} AS text, parseQueryToJSON(text) AS ast", {"sql": text})[0]
        except QueryRefused as error:
            raise QueryRefused(f"refused: {_parser_message(str(error))}") from None
        if row["text"] != text:  # the engine must check exactly the text it will run
            raise QueryRefused("refused: the query text did not reach the parser intact")
        try:
            return orjson.loads(row["ast"])
        except orjson.JSONDecodeError:  # deeper than orjson reads (1,024 levels)
            raise QueryRefused("refused: the query is nested too deeply to check") from None

    def _catalog(self) -> Functions:
        if self._functions is None:
            rows = self._warehouse.query("SELECT name, alias_to, case_insensitive, is_aggregate, categories FROM system.functions")
            allowed = {r["name"] for r in rows if r["categories"] in FUNCTION_CATEGORIES or r["name"] in EXTRA_FUNCTIONS}
            allowed |= {r["name"] for r in rows if r["alias_to"] in allowed}
            aggregates = {r["name"] for r in rows if r["is_aggregate"] and r["name"] in allowed}
            combinators = [r["name"] for r in self._warehouse.query("SELECT name FROM system.aggregate_function_combinators")]
            self._functions = Functions(
                exact=frozenset(allowed | EXTRA_FUNCTIONS),
                case_insensitive=frozenset(r["name"].lower() for r in rows if r["case_insensitive"] and r["name"] in allowed),
                aggregates=frozenset(aggregates | {a.lower() for a in aggregates}),
                combinators=tuple(sorted(combinators, key=len, reverse=True)),
            )
        return self._functions


def _parser_message(message: str) -> str:
    """ClickHouse's parse error, without its code and the guard's own query around it."""
    if "UNKNOWN_FUNCTION" in message or "Unknown function" in message:
        return "checking queries needs ClickHouse 26.8 or later (parseQueryToJSON)"
    message = re.split(r"[.:] In scope SELECT", message, maxsplit=1)[0].rsplit("DB::Exception: ", 1)[-1].strip().rstrip(".")
    if "JSON serialization" in message or "parseQueryToJSON" in message:
        return "only a single SELECT can run here"
    return message


class _Check:
    def __init__(self, database: str, functions: Functions):
        self.database, self.functions = database, functions

    def statement(self, ast: dict[str, Any]) -> None:
        if ast.get("type") != "SelectWithUnionQuery":
            raise QueryRefused(f"refused: only a single SELECT can run here, not {_kind(ast)}")
        pending: list[tuple[Any, frozenset[str]]] = [(ast, frozenset())]  # (part of the tree, WITH names in scope); no recursion, any depth
        while pending:
            part, ctes = pending.pop()
            if isinstance(part, list):
                pending.extend((item, ctes) for item in part)
            elif isinstance(part, dict):
                pending.extend(self.node(part, ctes))

    def node(self, node: dict[str, Any], ctes: frozenset[str]) -> list[tuple[Any, frozenset[str]]]:
        """Checks one node; returns the parts to check next, with their scope."""
        kind = node.get("type")
        if kind is None:  # a container without a node type: look inside all the same
            return _inside(node, ctes)
        if kind == "SetQuery":
            raise QueryRefused("refused: SETTINGS is not allowed in a query")
        if kind not in NODE_TYPES:
            raise QueryRefused(f"refused: {_kind(node)} is not allowed in a query")
        if kind == "Literal":
            return []
        if kind == "SelectWithUnionQuery":
            self.no_output_clauses(node)
            selects = (node.get("list_of_selects") or {}).get("children") or []
            if selects:  # the first SELECT's WITH holds for the later ones without a WITH of their own (enable_global_with_statement)
                shared = ctes | _with_names(selects[0])
                rest = _inside({k: v for k, v in node.items() if k != "list_of_selects"}, ctes)
                return [(selects[0], ctes), *((select, ctes if "with" in select else shared) for select in selects[1:]), *rest]
        elif kind == "SelectQuery":
            return self.select(node, ctes)
        elif kind == "TableIdentifier":
            self.table(node, ctes)
        elif kind == "TableExpression" and "table_function" in node:
            function = node["table_function"]
            if function.get("name") not in TABLE_FUNCTIONS:
                raise QueryRefused(f"refused: the table function {function.get('name')}() is not allowed in a query (allowed: {', '.join(sorted(TABLE_FUNCTIONS))})")
            return _inside({k: v for k, v in function.items() if k != "name"}, ctes) + _inside({k: v for k, v in node.items() if k != "table_function"}, ctes)
        elif kind == "Function":
            name = node.get("name", "")
            self.function(name)
            arguments = (node.get("arguments") or {}).get("children", [])
            if name in IN_FUNCTIONS and len(arguments) == 2 and arguments[1].get("type") == "Identifier":  # x IN table
                self.table(arguments[1], ctes)
        elif kind == "ColumnsApplyTransformer" and "func_name" in node:
            self.function(node["func_name"])
        return _inside(node, ctes)

    def select(self, node: dict[str, Any], ctes: frozenset[str]) -> list[tuple[Any, frozenset[str]]]:
        """A SELECT's parts: each WITH element with the names defined before it in scope, not its
        own or later ones (``WITH t AS (SELECT * FROM t)`` reads a table ``t``: on clickhouse-local,
        a file of that name), the rest with all of them."""
        parts, names = [], ctes
        for element in (node.get("with") or {}).get("children", []):
            parts.append((element, names))
            if element.get("type") == "WithElement":
                names = names | {element.get("name", "")}
        return parts + _inside({k: v for k, v in node.items() if k != "with"}, names)

    def no_output_clauses(self, node: dict[str, Any]) -> None:
        if "out_file" in node or node.get("is_into_outfile_with_stdout") or node.get("is_outfile_append") or node.get("is_outfile_truncate"):
            raise QueryRefused("refused: INTO OUTFILE is not allowed in a query")
        if "format_ast" in node:
            raise QueryRefused("refused: FORMAT is not allowed in a query (the command chooses the output format)")
        if "settings_ast" in node:
            raise QueryRefused("refused: SETTINGS is not allowed in a query")

    def table(self, node: dict[str, Any], ctes: frozenset[str]) -> None:
        parts = node.get("name_parts") or [node.get("name", "")]
        if len(parts) == 2 and (parts[0] == self.database or tuple(parts) in METADATA_TABLES) and not node.get("children"):
            return
        if len(parts) == 1 and parts[0] in ctes and not node.get("children"):
            return
        shown = ".".join(parts) or "a table named by a parameter"
        others = ", ".join(".".join(t) for t in sorted(METADATA_TABLES))
        raise QueryRefused(f"refused: only tables of the database {self.database} (as {self.database}.TABLE), WITH subqueries and {others} can be read, not {shown}")

    def function(self, name: str) -> None:
        if not self.functions.allows(name):
            raise QueryRefused(f"refused: the function {name}() is not allowed in a query")


def _with_names(select: dict[str, Any]) -> frozenset[str]:
    """The names a SELECT's WITH defines."""
    return frozenset(w.get("name", "") for w in (select.get("with") or {}).get("children", []) if w.get("type") == "WithElement")


def _inside(node: dict[str, Any], ctes: frozenset[str]) -> list[tuple[Any, frozenset[str]]]:
    return [(value, ctes) for key, value in node.items() if key != "type"]


def _kind(ast: dict[str, Any]) -> str:
    """``SystemQuery`` → ``SYSTEM``, ``KillQueryQuery`` → ``KILL QUERY``, a RESTORE by its kind; other node types as they are."""
    node_type = ast.get("type") or "this statement"
    if not node_type.endswith("Query"):
        return node_type
    return str(ast.get("kind") or re.sub(r"(?<!^)(?=[A-Z])", " ", node_type.removesuffix("Query"))).upper()
