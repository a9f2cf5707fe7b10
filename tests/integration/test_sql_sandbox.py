"""`cdp sql` and the query sandbox: no query reaches a file, the network or the server's configuration
(invariant 8), on the embedded warehouse through the real CLI and on a ClickHouse server; ordinary
analytics still run."""

from pathlib import Path

import orjson
import pytest

from cdp.errors import QueryRefused
from cdp.warehouse.sandbox import QuerySandbox
from tests.cli import cdp
from tests.integration.sandbox_forms import HOSTILE, ORDINARY
from cdp.config import Settings, WarehouseSettings
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.migrations import migrate
from tests.services.clickhouse import QUERY_PASSWORD, QUERY_USER, ClickHouseServer

CANARY = b"canary-5d41402abc4b2a76 a file no query may read or change\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with a small demo (its master key included)."""
    data = tmp_path_factory.mktemp("sandbox") / "data"
    made = cdp("demo", "--customers", "30", data_dir=data)
    assert made.returncode == 0, made.stderr.decode()
    assert (data / "master.key").stat().st_size > 0
    return data


@pytest.fixture
def places(tmp_path: Path, demo: Path) -> dict[str, Path]:
    canary = tmp_path / "canary.txt"
    canary.write_bytes(CANARY)
    return {"canary": canary, "new": tmp_path / "written.txt", "key": demo / "master.key"}


def forms(query: str, places: dict[str, Path], db: str) -> str:
    return query.format(db=db, **{name: str(path) for name, path in places.items()})


def assert_untouched(places: dict[str, Path], *outputs: bytes) -> None:
    assert places["canary"].read_bytes() == CANARY
    assert not places["new"].exists()
    secrets = [CANARY.strip(), places["key"].read_bytes().strip()]
    for output in outputs:
        for secret in secrets:
            assert secret not in output


# Through the real CLI, one form of each kind (a CLI run costs ~1.5 s); every form runs in-process below.
THROUGH_THE_CLI = ("outfile-truncate", "outfile-append", "file-master-key", "file-shadow", "file-in-lambda", "url", "executable", "system-tables-paths", "settings-clause", "insert", "set", "multi-statement-after-string")


@pytest.mark.parametrize(("name", "query"), [form for form in HOSTILE if form[0] in THROUGH_THE_CLI], ids=[name for name, _ in HOSTILE if name in THROUGH_THE_CLI])
def test_cdp_sql_refuses_in_one_line_and_touches_nothing(demo: Path, places: dict[str, Path], name: str, query: str):
    result = cdp("sql", forms(query, places, "cdp"), data_dir=demo, timeout=60)
    assert result.returncode == 2, result.stdout.decode()
    assert result.stderr.decode().startswith("error: refused: ") and result.stderr.count(b"\n") == 1, result.stderr.decode()
    assert_untouched(places, result.stdout, result.stderr)


@pytest.mark.parametrize("query", ORDINARY[:4])
def test_cdp_sql_still_answers_ordinary_analytics(demo: Path, query: str):
    result = cdp("sql", forms(query, {}, "cdp"), "--format", "json", data_dir=demo, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert isinstance(orjson.loads(result.stdout), list)


def test_cdp_sql_answers_with_the_demo_data(demo: Path):
    result = cdp("sql", "SELECT uniqExact(customer_id) AS n FROM cdp.profiles FINAL", "--format", "json", data_dir=demo)
    assert orjson.loads(result.stdout)[0]["n"] >= 30


@pytest.mark.parametrize("name", ["outfile-truncate", "file-function", "file-master-key", "system-table"])
def test_cdp_sql_on_a_clickhouse_server_refuses(clickhouse: ClickHouseServer, tmp_path: Path, demo: Path, places: dict[str, Path], name: str):
    env = {"CDP_WAREHOUSE__BACKEND": "clickhouse", "CDP_WAREHOUSE__HOST": clickhouse.host, "CDP_WAREHOUSE__PORT": str(clickhouse.port)}
    result = cdp("sql", forms(dict(HOSTILE)[name], places, "cdp"), data_dir=tmp_path / "data", env=env, timeout=60)
    assert result.returncode == 2 and result.stderr.decode().startswith("error: refused: "), result.stderr.decode()
    assert_untouched(places, result.stdout, result.stderr)


def test_cdp_sql_on_a_server_runs_as_the_query_user(clickhouse: ClickHouseServer, tmp_path: Path, places: dict[str, Path]):
    server = {"CDP_WAREHOUSE__BACKEND": "clickhouse", "CDP_WAREHOUSE__HOST": clickhouse.host, "CDP_WAREHOUSE__PORT": str(clickhouse.port)}
    reader = server | {"CDP_WAREHOUSE__QUERY_USER": QUERY_USER, "CDP_WAREHOUSE__QUERY_PASSWORD": QUERY_PASSWORD}
    assert cdp("sql", "SELECT 1", data_dir=tmp_path / "data", env=server).returncode == 0  # creates the database as the writing user
    who = cdp("sql", "SELECT count() AS n FROM cdp.profiles FINAL", "--format", "json", data_dir=tmp_path / "data", env=reader)
    assert who.returncode == 0 and orjson.loads(who.stdout) == [{"n": 0}], who.stderr.decode()
    refused = cdp("sql", forms(dict(HOSTILE)["file-function"], places, "cdp"), data_dir=tmp_path / "data", env=reader)
    assert refused.returncode == 2 and refused.stderr.decode().startswith("error: refused: the function file()")
    assert_untouched(places, refused.stdout, refused.stderr)
    wrong = cdp("sql", "SELECT 1", data_dir=tmp_path / "data", env=reader | {"CDP_WAREHOUSE__QUERY_PASSWORD": "wrong"})
    assert wrong.returncode == 2 and b"Authentication failed" in wrong.stderr and b"wrong" not in wrong.stderr


@pytest.mark.parametrize(
    ("query", "refusal"),
    [
        ("SELECT * FROM file('{canary}', 'LineAsString')", "READ ON FILE"),
        ("SELECT * FROM url('http://127.0.0.1:9/x', 'LineAsString')", "READ ON URL"),
        ("SELECT * FROM system.users", "SELECT ON system.users"),
        ("INSERT INTO cdp.identities (identifier) VALUES ('x')", "INSERT"),
        ("SELECT 1 SETTINGS readonly = 0", "readonly"),
    ],
)
def test_the_query_user_is_held_by_the_server_itself(clickhouse: ClickHouseServer, tmp_path: Path, query: str, refusal: str):
    """ClickHouse's own walls, without the sandbox: the query user's grants and readonly profile."""
    settings = WarehouseSettings(backend="clickhouse", host=clickhouse.host, port=clickhouse.port, query_user=QUERY_USER, query_password=QUERY_PASSWORD)
    writer = open_warehouse(Settings(data_dir=tmp_path, warehouse=settings))
    migrate(writer)  # the database and its tables exist (created by the writing user), whichever test ran before on this server
    writer.close()
    reader = open_warehouse(Settings(data_dir=tmp_path, warehouse=settings), as_query_user=True)
    reader.make_read_only()
    canary = tmp_path / "canary.txt"
    canary.write_bytes(CANARY)
    with pytest.raises(QueryRefused, match=refusal):
        reader.query(query.format(canary=canary))
    # ... which do not cover the scalar file() on this server (clickhouse-local's, no user_files_path): the sandbox stays in front
    assert reader.query(f"SELECT file('{canary}') AS x") == [{"x": CANARY.decode()}]
    reader.close()


@pytest.fixture(scope="module")
def sandbox(any_warehouse) -> QuerySandbox:
    any_warehouse.make_read_only()
    return QuerySandbox(any_warehouse)


@pytest.mark.parametrize("query", [q for _, q in HOSTILE], ids=[name for name, _ in HOSTILE])
def test_the_sandbox_refuses_each_form(sandbox: QuerySandbox, any_warehouse, tmp_path: Path, query: str):
    canary, new = tmp_path / "canary.txt", tmp_path / "written.txt"
    canary.write_bytes(CANARY)
    places = {"canary": canary, "new": new, "key": canary}
    with pytest.raises(QueryRefused, match="^refused: ") as refused:
        sandbox.query(forms(query, places, any_warehouse.database))
    assert "\n" not in str(refused.value)
    assert canary.read_bytes() == CANARY and not new.exists() and CANARY.strip().decode() not in str(refused.value)


@pytest.mark.parametrize("query", ORDINARY)
def test_the_sandbox_answers_ordinary_analytics(sandbox: QuerySandbox, any_warehouse, query: str):
    assert isinstance(sandbox.query(forms(query, {}, any_warehouse.database)), list)


def test_the_sandbox_passes_query_parameters(sandbox: QuerySandbox, any_warehouse):
    sql = f"SELECT {{n:UInt8}} + 1 AS n, {{s:String}} AS s, count() AS rows FROM `{any_warehouse.database}`.profiles WHERE lifecycle_stage IN {{stages:Array(String)}}"
    assert sandbox.query(sql, {"n": 1, "s": "a'b\\c", "stages": ["new"]}) == [{"n": 2, "s": "a'b\\c", "rows": 0}]


def test_a_syntax_error_is_one_line_without_the_sandbox_around_it(sandbox: QuerySandbox):
    with pytest.raises(QueryRefused) as refused:
        sandbox.query("SELEC 1")
    message = str(refused.value)
    assert message.startswith("refused: ") and "Syntax error" in message and "parseQueryToJSON" not in message and "\n" not in message


def test_without_the_sandbox_readonly_still_reads_a_file_on_an_unconfined_server(clickhouse: ClickHouseServer, tmp_path: Path):
    """The threat is real: on a server in clickhouse-local's mode, readonly = 1 alone lets file() read any file."""
    canary = tmp_path / "canary.txt"
    canary.write_bytes(CANARY)
    reader = open_warehouse(Settings(data_dir=tmp_path, warehouse=WarehouseSettings(backend="clickhouse", host=clickhouse.host, port=clickhouse.port)))
    reader.make_read_only()
    assert reader.query(f"SELECT file('{canary}') AS x") == [{"x": CANARY.decode()}]
    reader.close()


def test_without_the_sandbox_the_managed_server_still_reads_no_file(any_warehouse, tmp_path: Path):
    """The managed server's second wall: the kernel confines it to its own files (cdp.warehouse.confinement)."""
    canary = tmp_path / "canary.txt"
    canary.write_bytes(CANARY)
    any_warehouse.make_read_only()
    with pytest.raises(QueryRefused, match="Permission denied"):
        any_warehouse.query(f"SELECT file('{canary}') AS x")


@pytest.mark.parametrize("depth", [300, 600, 3000])
def test_deep_nesting_is_checked_or_refused_in_one_line(sandbox: QuerySandbox, depth: int):
    """The walk has no recursion limit; a tree too deep for the parser or for JSON is refused, never a traceback."""
    for sql in ("SELECT " + "-(" * depth + "1" + ")" * depth, "SELECT " + "[" * depth + "]" * depth, "SELECT " + "file(" * depth + "'x'" + ")" * depth):
        try:
            sandbox.check(sql)
        except QueryRefused as refused:
            assert str(refused).startswith("refused: ") and "\n" not in str(refused)
        else:
            assert "file(" not in sql


@pytest.mark.parametrize(
    ("function", "allowed"),
    [
        ("avgOrNullIf(x, 1)", True), ("sumForEach(a)", True), ("uniqMerge(s)", True), ("argMaxIf(a, b, c)", True),
        ("COUNT(*)", True), ("Sum(x)", True), ("groupBitmapState(u)", True), ("quantilesExactIf(0.5, 0.9)(x, 1)", True),
        ("fileIf('/etc/shadow', 1)", False), ("FILE('/etc/shadow')", False), ("getSettingOrDefault('readonly', 0)", False),
        ("dictGetOrNull('d', 'a', 1)", False), ("sumIfFile(x)", False), ("currentDatabase()", False),
    ],
)  # fmt: skip
def test_function_names_resolve_as_clickhouse_does(sandbox: QuerySandbox, any_warehouse, function: str, allowed: bool):
    """Aliases, case-insensitive names and aggregate combinators of allowed functions pass; nothing else does."""
    sql = f"SELECT {function} FROM `{any_warehouse.database}`.profiles"
    if allowed:
        assert sandbox.check(sql) == sql
    else:
        with pytest.raises(QueryRefused, match=r"^refused: the function \w+\(\) is not allowed in a query$"):
            sandbox.check(sql)


class OldServer:
    """A server without parseQueryToJSON (before ClickHouse 26.8), as clickhouse-driver reports it."""

    database = "cdp"

    def query(self, sql: str, params: dict | None = None) -> list[dict]:
        if "parseQueryToJSON" in sql:
            raise QueryRefused(f"Code: 46. DB::Exception: Unknown function parseQueryToJSON. In scope SELECT '{params['sql']}' AS text, parseQueryToJSON(text) AS ast. (UNKNOWN_FUNCTION)")
        return []


def test_a_server_without_the_parser_is_named_not_trusted():
    with pytest.raises(QueryRefused, match=r"^refused: checking queries needs ClickHouse 26.8 or later \(parseQueryToJSON\)$"):
        QuerySandbox(OldServer()).query("SELECT 1")
