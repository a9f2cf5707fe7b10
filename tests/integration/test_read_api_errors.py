"""The read API's errors never show the server's files, its SQL engine's text or a traceback: a bad
parameter is named with the rule it breaks, a failure of the server is a 500 with an error id
whose details are in the server's log."""

import logging
import re

import pytest
from fastapi.testclient import TestClient

from cdp.platform import Platform
from tests.integration.access_app import EMAIL, access_app

LEAKS = re.compile(r"/|\.py|Traceback|DB::Exception|File ")


@pytest.fixture
def client(platform: Platform):
    with access_app(platform) as app:  # its client runs the app's lifespan; this one answers a failure as a client sees it
        yield TestClient(app.client.app, raise_server_exceptions=False, headers=app.bearer("admin"))


@pytest.mark.parametrize(
    "url, message",
    [
        ("/v1/analytics/funnel?steps=a,b&window_days=abc", "query.window_days: Input should be a valid number"),
        ("/v1/analytics/funnel?steps=a,b&window_days=inf", "query.window_days: Input should be less than or equal to 3660"),
        ("/v1/analytics/retention?period=year", "query.period: Input should be 'day', 'week' or 'month'"),
        ("/v1/analytics/retention?start=0001-01-01", "start: expected a date between 1900 and 2299, got 0001-01-01"),  # reached ClickHouse
        ("/v1/analytics/lifecycle-flow?start=2025-03-01&end=2025-02-01", "end: 2025-02-01 is before start, 2025-03-01"),  # was 200 and nothing
        (f"/v1/profiles/{EMAIL}/timeline?limit=0", "query.limit: Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_parameter_is_named_without_the_servers_files(client: TestClient, url: str, message: str):
    response = client.get(url)
    assert response.status_code in (400, 422) and response.json()["message"].startswith(message)
    assert not LEAKS.search(response.json()["message"]), response.text


def test_a_failure_of_the_server_is_a_500_with_an_error_id_and_its_details_in_the_log(client: TestClient, platform: Platform, caplog: pytest.LogCaptureFixture):
    platform.warehouse.execute("DROP TABLE cdp.identities")  # every profile read now fails inside ClickHouse
    with caplog.at_level(logging.ERROR, logger="cdp.serve"):
        response = client.get(f"/v1/profiles/{EMAIL}")
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    error_id = re.fullmatch(r"internal error ([0-9a-f]{12}); the server's log has the details", response.json()["message"])
    assert error_id, response.text
    assert not LEAKS.search(response.text)
    logged = [r for r in caplog.records if error_id[1] in r.getMessage()]
    assert logged and "identities" in logged[0].getMessage() and logged[0].exc_info  # the detail, for the operator
