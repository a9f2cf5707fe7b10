"""``teamchat``: staff alerts to a team chat through apprise (WeCom, DingTalk, Feishu, Slack,
Microsoft Teams, Telegram, ... and plain JSON webhooks), one message per action.

The secret is the apprise URL (one per line for several chats): it holds the chat's token, so it is
kept encrypted like every destination secret. Texts come from ``templates.NAME.title`` and
``.body`` (Jinja2 in the sandbox); an action without a template sends its rule as the title and
its payload as JSON. For the generic schemes whose host the administrator chooses (``json``,
``form``, ``xml`` and their TLS forms) the host is resolved and checked before every send
(``cdp.activation.addresses``); apprise itself connects, so the check cannot pin the address as
the webhook does. Apprise answers only success or failure, so every failure is retried.
"""

from typing import Annotated
from urllib.parse import urlsplit

import apprise
import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cdp.activation.addresses import RefusedAddress, resolve_host
from cdp.activation.destinations import Destination, DestinationSettings, Message, Permanent, Retryable, Sent
from cdp.activation.templates import check_template, render
from cdp.errors import CdpError

GENERIC_SCHEMES = {"json": 80, "jsons": 443, "form": 80, "forms": 443, "xml": 80, "xmls": 443}


class ChatTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, Field(max_length=1000)] = ""
    body: Annotated[str, Field(min_length=1, max_length=20_000)]

    @field_validator("title", "body")
    @classmethod
    def _template(cls, text: str) -> str:
        return check_template(text)


class TeamChatSettings(DestinationSettings):
    templates: dict[str, ChatTemplate] = {}


class TeamChat(Destination):
    kind = "teamchat"
    Settings = TeamChatSettings
    needs_secret = True
    secret_help = "the apprise URL of the chat (e.g. wecombot://KEY, dingtalk://TOKEN, feishu://TOKEN, slack://T/B/C; one per line for several)"

    @classmethod
    def check(cls, settings: TeamChatSettings, secret: str | None) -> None:
        urls = _urls(secret)
        if not urls:
            raise CdpError(f"secret: {cls.secret_help}")
        for n, url in enumerate(urls, 1):
            if not apprise.Apprise().add(url):
                raise CdpError(f"secret: line {n} is not an apprise URL apprise can send to (see https://github.com/caronc/apprise/wiki)")
            try:
                _check_generic_host(url, settings.allow_private)
            except RefusedAddress as refused:
                raise CdpError(f"secret: line {n}: {refused}") from None

    def send(self, message: Message) -> Sent:
        settings: TeamChatSettings = self.settings  # type: ignore[assignment]
        template = settings.templates.get(message.template) if message.template else None
        if message.template and template is None:
            raise Permanent(f"templates: no template {message.template!r} (has {', '.join(sorted(settings.templates)) or 'none'})")
        title = render(template.title, message, f"templates.{message.template}.title") if template else message.rule
        body = render(template.body, message, f"templates.{message.template}.body") if template else orjson.dumps(message.body()).decode()
        chat = apprise.Apprise()
        for url in _urls(self.context.secret):
            try:
                _check_generic_host(url, settings.allow_private)
            except RefusedAddress as refused:
                raise Permanent(f"secret: {refused}") from None
            chat.add(url)
        if not chat.notify(body=body, title=title):
            raise Retryable("the chat did not accept the message (apprise reported a failure)")
        return Sent(delivered=True, detail=f"posted to {len(chat)} chat(s)")


def _urls(secret: str | None) -> list[str]:
    return [line.strip() for line in (secret or "").splitlines() if line.strip()]


def _check_generic_host(url: str, allow_private: bool) -> None:
    """A generic scheme's host (an administrator's own server) must be an allowed address; the
    vendors' schemes reach the vendor's own hosts."""
    parts = urlsplit(url)
    default_port = GENERIC_SCHEMES.get(parts.scheme.lower())
    if default_port is not None:
        try:
            port = parts.port or default_port
        except ValueError:
            raise RefusedAddress("url: the port is not a number") from None
        resolve_host(parts.hostname or "", port, allow_private, "url")
