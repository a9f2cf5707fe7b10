"""The console's tags page over HTTP (the server app as ``cdp serve`` builds it): the rules in force,
a change written as TOML tried as a dry run (the hand-worked log and numbers of
tests/integration/test_tags_service.py), applying refused without ``admin`` and done with it, and
the version listed afterwards; a malformed change gets a page naming the field."""

import orjson
from fastapi.testclient import TestClient

from cdp.api.app import create_app
from cdp.api.server import build_collector
from cdp.platform import Platform
from ingestion.jsonl import import_lines
from tests.console.test_console_http import sign_in
from tests.integration.test_tags_service import LOG

CHANGE = """active_days = 20

[[rules]]
tag = "big_spender"
description = "Spent 500 or more."
all = [{ feature = "revenue", op = ">=", value = 500 }]
"""


def test_a_tag_change_is_dry_run_then_applied_by_an_admin(platform: Platform):
    import_lines((orjson.dumps(e) for e in LOG), platform, "t")
    platform.runner.run()
    reader_key = platform.read_keys.create("reader", ["profiles:read"])[1]
    admin_key = platform.read_keys.create("ops", ["admin"])[1]
    with TestClient(create_app(build_collector(platform), platform), base_url="http://127.0.0.1") as client:
        token = sign_in(client, admin_key)
        listed = client.get("/tags").text
        assert 'id="tag-rules"' in listed and "active" in listed and 'id="apply-tags"' in listed

        tried = client.post("/tags/dry-run", data={"csrf": token, "definitions": CHANGE})
        assert tried.status_code == 200 and 'id="dry-run-result"' in tried.text
        assert "Now: 3 hold it, 1 would; 0 gain it, 2 lose it." in tried.text  # active: B and C lose it
        assert "Now: 0 hold it, 1 would; 1 gain it, 0 lose it." in tried.text  # big_spender: A gains it
        assert platform.tag_definitions.history() == []  # a dry run writes nothing

        bad = client.post("/tags/dry-run", data={"csrf": token, "definitions": "active_days = -1"})
        assert bad.status_code == 422 and "active_days" in bad.text
        assert client.post("/tags/dry-run", data={"definitions": CHANGE}).status_code == 403  # no CSRF token

        applied = client.post("/tags/apply", data={"csrf": token, "definitions": CHANGE}, follow_redirects=False)
        assert applied.status_code == 303 and applied.headers["location"] == "/tags?applied=1"
        after = client.get("/tags?applied=1").text
        assert "Version 1 applied" in after and 'id="tag-history"' in after and "big_spender" in after

    with TestClient(create_app(build_collector(platform), platform), base_url="http://127.0.0.1") as client:
        token = sign_in(client, reader_key)
        assert 'id="apply-tags"' not in client.get("/tags").text
        refused = client.post("/tags/apply", data={"csrf": token, "definitions": CHANGE})
        assert refused.status_code == 403 and "admin" in refused.text
        assert len(platform.tag_definitions.history()) == 1


def test_each_refusal_of_the_tags_form_is_worded_in_chinese(platform: Platform):
    """Not TOML, a threshold out of range, a change that changes nothing, no CSRF token, no ``admin``:
    each refusal in the reader's language (cdp/refusals.py, the catalogues' [refusal]), none in English."""
    reader_key = platform.read_keys.create("reader", ["profiles:read"])[1]
    admin_key = platform.read_keys.create("ops", ["admin"])[1]
    with TestClient(create_app(build_collector(platform), platform), base_url="http://127.0.0.1", cookies={"cdp_lang": "zh-CN"}) as client:
        token = sign_in(client, admin_key)
        not_toml = client.post("/tags/dry-run", data={"csrf": token, "definitions": "active_days = = 3"})
        assert not_toml.status_code == 422 and "definitions：不是有效的 TOML（" in not_toml.text and "not TOML" not in not_toml.text
        out_of_range = client.post("/tags/dry-run", data={"csrf": token, "definitions": "active_days = 0"})
        assert out_of_range.status_code == 422 and "active_days: 必须大于 0" in out_of_range.text, out_of_range.text
        same = client.post("/tags/dry-run", data={"csrf": token, "definitions": "active_days = 90"})
        no_token = client.post("/tags/dry-run", data={"definitions": CHANGE})
        assert no_token.status_code == 403 and "表单令牌缺失或已过期" in no_token.text and "stale" not in no_token.text
    with TestClient(create_app(build_collector(platform), platform), base_url="http://127.0.0.1", cookies={"cdp_lang": "zh-CN"}) as client:
        token = sign_in(client, reader_key)
        refused = client.post("/tags/apply", data={"csrf": token, "definitions": CHANGE})
        assert refused.status_code == 403 and "需要 admin 权限" in refused.text and "this needs" not in refused.text
    assert same.status_code == 422 and "该定义没有改变任何标签" in same.text, same.text
