"""BI tools on the default install (docs/bi.md): the read-only BI user of the managed warehouse
server, with a real client of each protocol — clickhouse-connect over HTTP (what Superset uses)
and clickhouse-driver over the native protocol. Reads work; writes, files, URLs, other servers,
other users' queries and raised limits are refused."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import clickhouse_connect
import httpx
import orjson
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError
from clickhouse_driver import Client
from clickhouse_driver.errors import ServerException

from cdp.config import load_settings
from cdp.warehouse.managed import BI, ManagedServer
from cdp.workload import generate
from tests.cli import cdp

CANARY = b"canary-not-for-bi\n"
REFUSED_READS = {
    "file table function": "SELECT * FROM file('{canary}', 'LineAsString')",
    "file function": "SELECT file('{canary}')",
    "url": "SELECT * FROM url('http://127.0.0.1:9/x', 'LineAsString')",
    "remote": "SELECT * FROM remote('127.0.0.1:{tcp}', system.one)",
    "other users' queries": "SELECT query FROM system.processes",
    "the users": "SELECT name FROM system.users",
    "settings beyond the limits": "SELECT 1 SETTINGS max_execution_time = 100000",
    "more queries at once beyond the limit": "SELECT 1 SETTINGS max_concurrent_queries_for_user = 1000",
    "readonly off": "SELECT 1 SETTINGS readonly = 0",
}
REFUSED_WRITES = {
    "insert": "INSERT INTO cdp.profiles (customer_id) VALUES ('x')",
    "create": "CREATE TABLE cdp.mine (a Int32) ENGINE = Memory",
    "drop": "DROP TABLE cdp.profiles",
    "truncate": "TRUNCATE TABLE cdp.events",
    "alter": "ALTER TABLE cdp.events DELETE WHERE 1",
    "database": "CREATE DATABASE mine",
    "file table": "CREATE TABLE cdp.f (a String) ENGINE = File(LineAsString, '/etc/passwd')",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """A data directory with the demo's first customers processed, and its server running (pinned)."""
    data = tmp_path_factory.mktemp("bi") / "data"
    workload = data.parent / "events.jsonl"
    workload.write_bytes(b"\n".join(orjson.dumps(e) for e in generate(200, seed=5)) + b"\n")
    for command in (["ingest", str(workload)], ["run"], ["warehouse", "start"]):
        result = cdp(*command, data_dir=data)
        assert result.returncode == 0, result.stderr.decode()
    server = ManagedServer.of(load_settings(data_dir=data))
    canary = data.parent / "canary.txt"
    canary.write_bytes(CANARY)
    yield server, canary
    server.stop()


def native(server: ManagedServer) -> Client:
    return Client("127.0.0.1", port=server.endpoint.tcp_port, user=BI, password=server.password(BI), database="cdp")


def http(server: ManagedServer):
    return clickhouse_connect.get_client(host="127.0.0.1", port=server.endpoint.http_port, username=BI, password=server.password(BI), database="cdp")


def test_bi_reads_the_platform_tables_over_both_protocols(served):
    server, _ = served
    native_count = native(server).execute("SELECT count() FROM cdp.profiles_current")[0][0]
    http_count = http(server).query("SELECT count() FROM cdp.profiles_current").result_rows[0][0]
    assert native_count == http_count > 0
    tables = {row[0] for row in native(server).execute("SELECT name FROM system.tables WHERE database = 'cdp'")}
    assert {"events", "profiles", "profiles_current", "daily_sales"} <= tables  # what a BI tool lists to pick from


@pytest.mark.parametrize("name", sorted(REFUSED_READS))
def test_bi_cannot_reach_files_urls_or_other_users_over_native(served, name: str):
    server, canary = served
    with pytest.raises(ServerException) as refused:
        native(server).execute(REFUSED_READS[name].format(canary=canary, tcp=server.endpoint.tcp_port))
    assert CANARY.decode().strip() not in str(refused.value)


@pytest.mark.parametrize("name", sorted(REFUSED_READS))
def test_bi_cannot_reach_files_urls_or_other_users_over_http(served, name: str):
    server, canary = served
    with pytest.raises(DatabaseError) as refused:
        http(server).query(REFUSED_READS[name].format(canary=canary, tcp=server.endpoint.tcp_port))
    assert CANARY.decode().strip() not in str(refused.value)


@pytest.mark.parametrize("name", sorted(REFUSED_WRITES))
def test_bi_cannot_write_over_either_protocol(served, name: str):
    server, _ = served
    with pytest.raises(ServerException):
        native(server).execute(REFUSED_WRITES[name])
    with pytest.raises(DatabaseError):
        http(server).command(REFUSED_WRITES[name])
    assert native(server).execute("SELECT count() > 0 FROM cdp.profiles")[0][0] == 1


def test_into_outfile_writes_no_file_on_the_server(served, tmp_path: Path):
    server, _ = served
    target = tmp_path / "leak.csv"
    native(server).execute(f"SELECT customer_id FROM cdp.profiles INTO OUTFILE '{target}'")  # a client-side clause: the server only answers rows
    with pytest.raises(DatabaseError):
        http(server).query(f"SELECT customer_id FROM cdp.profiles INTO OUTFILE '{target}'")
    assert not target.exists()


def test_no_client_can_log_in_as_the_passwordless_default_user(served):
    """``default`` has no password (the server's own blocking query runs as it) and one session at
    most, which that query holds: over either protocol, from this machine, a login as it is refused,
    so no local user can read the data files through ``file()`` or stop the listeners to take the
    port and the writer's password."""
    server, canary = served
    for query in (f"SELECT file('{canary}')", "SYSTEM STOP LISTEN TCP", "SELECT 1"):
        with pytest.raises(ServerException, match="overflown session count 1"):
            Client("127.0.0.1", port=server.endpoint.tcp_port).execute(query)
        answer = httpx.post(f"http://127.0.0.1:{server.endpoint.http_port}/", content=query.encode())
        assert answer.status_code != 200 and "USER_SESSION_LIMIT_EXCEEDED" in answer.text
    assert native(server).execute("SELECT 1") == [(1,)]  # the listeners still answer


def test_the_server_cannot_read_the_credentials_or_other_processes(served):
    server, _ = served
    client = native(server)
    for path in (server.root / "credentials.json", Path("/proc/1/environ"), Path("/etc/hostname")):
        with pytest.raises(ServerException, match="Permission denied"):
            client.execute(f"SELECT file('{path}')")
    environment = client.execute("SELECT file('/proc/self/environ')")[0][0]
    assert "CDP_" not in environment  # no secret passed down (CDP_PRIVACY__MASTER_KEY, ...)


def test_bi_runs_at_most_eight_queries_at_once(served):
    """``warehouse.embedded.query_max_concurrent``: a BI tool's ninth query at once is refused, so
    one dashboard cannot take the server the platform writes to."""
    server, _ = served
    ready = threading.Barrier(9)

    def slow() -> str:
        client = native(server)
        client.execute("SELECT 1")  # connected first: then all nine ask at once
        ready.wait(10)
        try:
            client.execute("SELECT sleep(2)")
            return "ok"
        except ServerException as refusal:
            return "refused" if "simultaneous queries for user" in refusal.message else refusal.message

    with ThreadPoolExecutor(9) as pool:
        outcomes = sorted(pool.map(lambda _: slow(), range(9)))
    assert outcomes == ["ok"] * 8 + ["refused"]


def test_a_wrong_password_is_refused(served):
    server, _ = served
    with pytest.raises(ServerException, match="Authentication failed|password is incorrect"):
        Client("127.0.0.1", port=server.endpoint.tcp_port, user=BI, password="guess").execute("SELECT 1")


def test_cdp_warehouse_connect_prints_what_works(served):
    server, _ = served
    data = server.root.parent
    printed = cdp("warehouse", "connect", "clickhouse-connect", data_dir=data)
    assert printed.returncode == 0, printed.stderr.decode()
    call = re.search(r"host='([^']+)', port=(\d+), username='([^']+)', password='([^']+)', database='([^']+)'", printed.stdout.decode().replace("\n", ""))
    assert call is not None, printed.stdout.decode()
    host, port, user, password, database = call.groups()
    client = clickhouse_connect.get_client(host=host, port=int(port), username=user, password=password, database=database)
    assert client.query("SELECT count() FROM profiles").result_rows[0][0] > 0
    every = cdp("warehouse", "connect", data_dir=data).stdout.decode()
    for tool in ("superset", "metabase", "grafana", "clickhouse-driver", "clickhouse-client"):
        assert tool in every
    unknown = cdp("warehouse", "connect", "excel", data_dir=data)
    assert unknown.returncode != 0 and "unknown tool 'excel'" in unknown.stderr.decode()
