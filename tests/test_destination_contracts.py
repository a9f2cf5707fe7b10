"""Every built-in destination kind keeps the destination contract, against a real receiver on loopback."""

from contextlib import contextmanager

import orjson

from cdp.activation.destinations.file import JsonLinesFile
from cdp.activation.destinations.smtp import Smtp
from cdp.activation.destinations.teamchat import TeamChat
from cdp.activation.destinations.webhook import Webhook
from tests.destination_contract import SECRET, DestinationContract, Live
from tests.receivers import JsonReceiver, SmtpReceiver, WebhookReceiver
from tests.services.ports import free_port


class TestWebhook(DestinationContract, destination=Webhook):
    @contextmanager
    def live(self, tmp_path):
        with WebhookReceiver(SECRET) as receiver:
            yield Live({"url": receiver.url, "allow_private": True}, SECRET, lambda: list(receiver.received.accepted))

    def down(self, tmp_path):
        return {"url": f"http://127.0.0.1:{free_port()}/hook", "allow_private": True}, SECRET, tmp_path


class TestSmtp(DestinationContract, destination=Smtp):
    template = "hello"
    TEMPLATES = {"hello": {"en": {"subject": "Hello {{ customer.name }}", "body": "n = {{ payload.n }}"}}}

    @contextmanager
    def live(self, tmp_path):
        with SmtpReceiver() as smtp:
            settings = {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from_address": "care@shop.example", "templates": self.TEMPLATES, "allow_private": True}
            yield Live(settings, None, lambda: [m["X-CDP-Action"] for m in smtp.messages])

    def down(self, tmp_path):
        settings = {"host": "127.0.0.1", "port": free_port(), "security": "none", "username": "care", "from_address": "care@shop.example", "templates": self.TEMPLATES, "allow_private": True}
        return settings, SECRET, tmp_path


class TestTeamChat(DestinationContract, destination=TeamChat):
    @contextmanager
    def live(self, tmp_path):
        with JsonReceiver() as chat:
            yield Live({"allow_private": True}, f"json://127.0.0.1:{chat.port}/", lambda: [orjson.loads(orjson.loads(b)["message"])["action_id"] for b in chat.bodies])

    def down(self, tmp_path):
        return {"allow_private": True}, f"json://127.0.0.1:{free_port()}/{SECRET}", tmp_path


class TestFile(DestinationContract, destination=JsonLinesFile):
    @contextmanager
    def live(self, tmp_path):
        path = tmp_path / "outbound" / "crm.jsonl"
        yield Live({"file_name": "crm.jsonl"}, None, lambda: [orjson.loads(line)["action_id"] for line in path.read_bytes().splitlines()])

    def down(self, tmp_path):
        blocked = tmp_path / "not-a-directory"
        blocked.write_text("a file where the directory should be")
        return {"file_name": "crm.jsonl"}, None, blocked
