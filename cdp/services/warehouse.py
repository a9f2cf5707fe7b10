"""The warehouse server of the embedded default, as an operator sees it: state, start, stop, and the
read-only BI user's connection details for each tool (docs/bi.md)."""

from dataclasses import dataclass

from cdp.config import Settings
from cdp.errors import CdpError
from cdp.warehouse.managed import BI, HOST, ManagedServer


@dataclass(frozen=True)
class ServerState:
    running: bool
    pid: int | None
    tcp_port: int
    http_port: int
    pinned: bool
    idle_stop_seconds: float


@dataclass(frozen=True)
class BIConnection:
    host: str
    tcp_port: int
    http_port: int
    user: str
    password: str
    database: str

    def instructions(self) -> dict[str, str]:
        """What to type into each tool (the password is a generated secret: keep it as one)."""
        http = f"http://{self.host}:{self.http_port}"
        return {
            "url": f"native: clickhouse://{self.user}:{self.password}@{self.host}:{self.tcp_port}/{self.database}\nHTTP:   {http}/?user={self.user}&database={self.database} (password in the X-ClickHouse-Key header)",
            "clickhouse-client": f"clickhouse-client --host {self.host} --port {self.tcp_port} --user {self.user} --password '{self.password}' --database {self.database}",
            "clickhouse-driver": f"Client('{self.host}', port={self.tcp_port}, user='{self.user}', password='{self.password}', database='{self.database}')",
            "clickhouse-connect": f"clickhouse_connect.get_client(host='{self.host}', port={self.http_port}, username='{self.user}', password='{self.password}', database='{self.database}')",
            "superset": f"SQLAlchemy URI: clickhousedb://{self.user}:{self.password}@{self.host}:{self.http_port}/{self.database}",
            "metabase": f"Database type ClickHouse; host {self.host}; port {self.http_port}; database {self.database}; username {self.user}; password {self.password}",
            "grafana": f"ClickHouse data source (grafana-clickhouse-datasource): server {self.host}; protocol HTTP, port {self.http_port} (or native, port {self.tcp_port}); username {self.user}; password {self.password}; default database {self.database}",
            "dbeaver": f"ClickHouse connection: host {self.host}; port {self.http_port}; database {self.database}; user {self.user}; password {self.password}",
        }


class WarehouseService:
    def __init__(self, settings: Settings):
        if settings.warehouse.backend != "embedded":
            raise CdpError(
                f"the warehouse is your own ClickHouse server ({settings.warehouse.host}:{settings.warehouse.port}): start, stop and give BI tools "
                "a read-only user there (docs/bi.md, \"Your own server\")"
            )
        self._settings = settings
        self._server = ManagedServer.of(settings)

    def status(self) -> ServerState:
        endpoint = self._server.endpoint
        running = self._server.running()
        return ServerState(
            running, self._server.pid if running else None, endpoint.tcp_port, endpoint.http_port,
            self._server.pinned, self._settings.warehouse.embedded.idle_stop_seconds,
        )

    def start(self) -> ServerState:
        """Starts the server if needed and pins it: it runs until ``stop``."""
        self._server.ensure_running()
        self._server.pin(True)
        return self.status()

    def stop(self) -> bool:
        return self._server.stop()

    def bi_connection(self) -> BIConnection:
        endpoint = self._server.endpoint
        return BIConnection(HOST, endpoint.tcp_port, endpoint.http_port, BI, self._server.password(BI), self._settings.warehouse.database)
