"""`POST /v1/customers/{identifier}/forget`: guarded by the auth dependency it is given; 404 for nobody."""

import orjson
from fastapi import FastAPI, Header, HTTPException
from fastapi.testclient import TestClient

from cdp.keys import ReadKey
from cdp.platform import Platform
from cdp.api.forget import forget_router
from schemas import parse_envelope
from tests.events import event, order


def admin_only(authorization: str = Header("")) -> ReadKey:
    if authorization != "Bearer admin":
        raise HTTPException(status_code=403, detail="admin scope required")
    return ReadKey("k1", "admin", ("admin",), "2025-01-01", None, None)


def test_forget_over_http(platform: Platform):
    platform.append([parse_envelope(e) for e in (order("2025-01-02", 10, "o1", email="ann@example.com"), event("page_viewed", "2025-01-03", email="bob@example.com"))])
    platform.runner.run()
    app = FastAPI()
    app.include_router(forget_router(lambda: platform, admin_only))
    client = TestClient(app)

    assert client.post("/v1/customers/ann@example.com/forget").status_code == 403
    missing = client.post("/v1/customers/nobody@example.com/forget", headers={"Authorization": "Bearer admin"})
    assert missing.status_code == 404 and "nobody@example.com" in missing.json()["detail"]

    done = client.post("/v1/customers/ANN@example.com/forget", headers={"Authorization": "Bearer admin"})
    assert done.status_code == 200, done.text
    (receipt,) = done.json()["receipts"]
    assert receipt["identifiers_found"] == {"email": 1} and receipt["keys_shredded"]["identifiers"] == 1
    assert "ann@example.com" not in done.text

    platform.runner.run()  # the server's runner processes the erasure event
    rows = platform.warehouse.query("SELECT emails, traits, orders FROM cdp.profiles FINAL WHERE customer_id = {c:String}", {"c": receipt["customer_id"]})
    assert rows == [{"emails": [], "traits": '{"erased":true}', "orders": 1}]
    assert [orjson.loads(n.state)["identifiers"]["email"] for n in platform.events.read(0, 10)][:2] == [None, "bob@example.com"]
    again = client.post(f"/v1/customers/{receipt['customer_id']}/forget", headers={"Authorization": "Bearer admin"})
    assert again.status_code == 409 and "forgotten already" in again.json()["detail"]
    audited = [(r.actor, r.target, r.outcome) for r in platform.audit.query(action="customer.forget")]
    assert audited == [("key:admin", audited[0][1], "not_found"), ("key:admin", receipt["customer_id"], "done"), ("key:admin", audited[2][1], "conflict")]
    assert audited[0][1].startswith("sha256:") and "nobody" not in str(audited)  # a refusal names the identifier hashed
