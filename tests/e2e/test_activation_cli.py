"""Activation end to end with the real ``cdp`` command: a destination added (a metadata URL refused),
a segment bound and synced, and a dispatcher killed with SIGKILL mid-send, then restarted: the
receiver gets every action, none twice by idempotency key, the log records each delivery once, and
a full rebuild queues nothing new. And ``cdp serve`` running the dispatcher itself."""

import os
import signal
import subprocess
import time
from pathlib import Path

import orjson

from tests.cli import CDP, cdp, environment, serve
from tests.events import event
from tests.receivers import WebhookReceiver
from tests.waiting import wait_until

SECRET = "an-e2e-webhook-secret-0123456789"
CUSTOMERS = 30
ENV = {"HOOK_SECRET": SECRET, "CDP_ACTIVATION__LEASE_SECONDS": "2", "CDP_ACTIVATION__TIMEOUT_SECONDS": "5"}


def ok(*args: str, data_dir: Path, stdin: bytes | None = None) -> str:
    done = cdp(*args, data_dir=data_dir, env=ENV, stdin=stdin)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def test_audience_to_a_webhook_survives_a_killed_dispatcher_without_duplicates(tmp_path: Path):
    data, log, segment = tmp_path / "data", tmp_path / "log.jsonl", tmp_path / "buyers.yaml"
    emails = [f"c{n:02}@example.com" for n in range(CUSTOMERS)]
    events = [event("consent_given", "2025-01-01", properties={"purpose": "email_marketing"}, email=e) for e in emails]
    log.write_bytes(b"\n".join(map(orjson.dumps, events)) + b"\n")
    segment.write_text('name: consenting\nwhere: {field: events_total, op: ">=", value: 1}\n')
    ok("ingest", str(log), data_dir=data)
    ok("run", data_dir=data)
    ok("segment", "create", str(segment), data_dir=data)

    refused = cdp("destinations", "add", "meta", "--kind", "webhook", "--set", "url=http://169.254.169.254/latest/meta-data/", "--secret-env", "HOOK_SECRET", data_dir=data, env=ENV)
    assert refused.returncode == 2 and "error: settings.url: 169.254.169.254 is a link-local" in refused.stderr.decode()

    with WebhookReceiver(SECRET, stall_rate=1.0, stall_seconds=0.15) as receiver:  # every answer takes a while: the kill lands mid-send
        ok("destinations", "add", "crm", "--kind", "webhook", "--set", f"url={receiver.url}", "--allow-private", "--secret-env", "HOOK_SECRET", data_dir=data)
        listed = ok("destinations", "list", "--format", "json", data_dir=data)
        assert SECRET not in listed and orjson.loads(listed)[0]["secret"] == "set"
        ok("audiences", "bind", "crm-sync", "--segment", "consenting", "--destination", "crm", "--purpose", "email_marketing", "--fields", "emails", data_dir=data)
        dry = orjson.loads(ok("audiences", "dry-run", "crm-sync", "--format", "json", data_dir=data))
        assert len(dry) == CUSTOMERS and all(row["would_send"] for row in dry) and receiver.received.requests == 0
        assert f"{CUSTOMERS} entered" in ok("audiences", "sync", "crm-sync", data_dir=data)

        dispatcher = subprocess.Popen([*CDP, "activation", "dispatch"], env=environment(data, ENV), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            while len(receiver.received.accepted) < 5:
                assert dispatcher.poll() is None, dispatcher.stderr.read().decode()
                time.sleep(0.02)
        finally:
            os.kill(dispatcher.pid, signal.SIGKILL)
            dispatcher.wait()
        assert len(receiver.received.accepted) < CUSTOMERS, "the dispatcher was meant to die mid-send"
        time.sleep(2.5)  # the dead dispatcher's lease runs out
        ok("activation", "dispatch", "--once", data_dir=data)
        assert "0 entered, 0 left; 0 actions queued" in ok("audiences", "sync", "crm-sync", data_dir=data)
        ok("activation", "dispatch", "--once", data_dir=data)

    received = receiver.received
    assert received.bad_signatures == []
    assert len(received.accepted) == CUSTOMERS
    assert sorted(email for body in received.accepted.values() for email in body["payload"]["fields"]["emails"]) == emails
    delivered = orjson.loads(ok("deliveries", "--status", "delivered", "--format", "json", data_dir=data))
    assert sorted(row["action_id"] for row in delivered) == sorted(received.accepted)
    ok("run", data_dir=data)
    counted = orjson.loads(ok("sql", "SELECT event_type, count() AS n, uniqExact(JSONExtractString(properties, 'action_id')) AS actions FROM cdp.events WHERE source_name = 'activation' GROUP BY 1 ORDER BY 1", "--format", "json", data_dir=data))
    assert counted == [{"event_type": "outbound_message_delivered", "n": CUSTOMERS, "actions": CUSTOMERS}, {"event_type": "outbound_message_sent", "n": CUSTOMERS, "actions": CUSTOMERS}]
    timeline = orjson.loads(ok("timeline", emails[0], "--format", "json", data_dir=data))
    assert sorted(row["event_type"] for row in timeline) == ["consent_given", "outbound_message_delivered", "outbound_message_sent"]
    ok("projections", "rebuild", data_dir=data)  # every projection again from the first event, the delivery events included
    assert "0 entered, 0 left; 0 actions queued" in ok("audiences", "sync", "crm-sync", data_dir=data)


def test_cdp_serve_delivers_a_synced_audience_and_stops_cleanly(tmp_path: Path):
    data, log, segment = tmp_path / "data", tmp_path / "log.jsonl", tmp_path / "all.yaml"
    events = [event("consent_given", "2025-01-01", properties={"purpose": "email_marketing"}, email=f"s{n}@example.com") for n in range(3)]
    log.write_bytes(b"\n".join(map(orjson.dumps, events)) + b"\n")
    segment.write_text('name: everyone\nwhere: {field: events_total, op: ">=", value: 1}\n')
    ok("ingest", str(log), data_dir=data)
    ok("run", data_dir=data)
    ok("segment", "create", str(segment), data_dir=data)
    with WebhookReceiver(SECRET) as receiver:
        ok("destinations", "add", "crm", "--kind", "webhook", "--set", f"url={receiver.url}", "--allow-private", "--secret-env", "HOOK_SECRET", data_dir=data)
        ok("audiences", "bind", "all", "--segment", "everyone", "--destination", "crm", "--purpose", "email_marketing", "--every-minutes", "1", data_dir=data)
        server, _ = serve(data, env=ENV, stdout=subprocess.DEVNULL)
        try:
            wait_until(lambda: len(receiver.received.accepted) == 3, seconds=120)  # the scheduled sync, then the dispatcher in the server
        finally:
            server.send_signal(signal.SIGINT)
            _, stderr = server.communicate(timeout=60)
    assert server.returncode in (0, 130) and b"Traceback" not in stderr and b"error" not in stderr, stderr.decode()
    assert len(receiver.received.accepted) == 3 and receiver.received.bad_signatures == []
