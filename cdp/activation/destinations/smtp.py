"""``smtp``: each message an email, its subject and body rendered from a template in the customer's
language (the profile's ``language`` trait, else the destination's ``default_language``).

Templates are the destination's settings: ``templates.NAME.LANGUAGE.subject`` and ``.body``
(Jinja2 in the sandbox, ``cdp.activation.templates``). The recipient is the customer's first email
address as the profile holds it at send time (``payload.email`` when the action carries one). The
server's acceptance is ``message_sent``; whether the email reached a mailbox is the mail system's
to tell (a bounce comes back as a suppression). The secret, when given, is the SMTP password.
"""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cdp.activation.addresses import RefusedAddress, resolve_host
from cdp.activation.destinations import Destination, DestinationSettings, Message, Permanent, Retryable, Sent
from cdp.activation.templates import check_template, render
from cdp.errors import CdpError

Language = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")]


class EmailTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: Annotated[str, Field(min_length=1, max_length=1000)]
    body: Annotated[str, Field(min_length=1, max_length=100_000)]

    @field_validator("subject", "body")
    @classmethod
    def _template(cls, text: str) -> str:
        return check_template(text)


class SmtpSettings(DestinationSettings):
    host: Annotated[str, Field(min_length=1, max_length=253)]
    port: Annotated[int, Field(gt=0, le=65535)] = 587
    security: str = Field("starttls", pattern=r"^(starttls|ssl|none)$", description="starttls (port 587), ssl (port 465) or none (a relay on this host).")
    username: str | None = None  # the secret is its password
    from_address: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    default_language: Language = "en"
    templates: Annotated[dict[str, dict[Language, EmailTemplate]], Field(min_length=1)]


class Smtp(Destination):
    kind = "smtp"
    Settings = SmtpSettings
    secret_help = "the SMTP password of settings.username (none for a relay that needs no login)"
    confirms_delivery = False

    @classmethod
    def check(cls, settings: SmtpSettings, secret: str | None) -> None:
        try:
            resolve_host(settings.host, settings.port, settings.allow_private, "settings.host")
        except RefusedAddress as refused:
            raise CdpError(str(refused)) from None
        if settings.username and not secret:
            raise CdpError("secret: settings.username is set, so the SMTP password is needed")

    def send(self, message: Message) -> Sent:
        settings: SmtpSettings = self.settings  # type: ignore[assignment]
        recipient = message.payload.get("email") or message.contact.get("email")
        if not recipient:
            raise Permanent("the customer has no email address")
        template = self._template(message)
        email = EmailMessage()
        email["From"] = settings.from_address
        email["To"] = str(recipient)
        email["Subject"] = render(template.subject, message, f"templates.{message.template}.subject").strip().replace("\n", " ")
        email["Date"] = formatdate(message.sent_at.timestamp(), usegmt=True)
        email["Message-ID"] = make_msgid(idstring=message.action_id)
        email["X-CDP-Action"] = message.action_id  # what a mail system deduplicates a resend by
        email.set_content(render(template.body, message, f"templates.{message.template}.body"))
        try:
            address = resolve_host(settings.host, settings.port, settings.allow_private, "settings.host")
        except RefusedAddress as refused:
            raise Permanent(str(refused)) from None
        try:
            with self._connect(settings, address) as server:
                if settings.username:
                    server.login(settings.username, self.context.secret or "")
                server.send_message(email)
        except smtplib.SMTPAuthenticationError as error:
            raise Permanent(f"SMTP login refused ({error.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as error:
            code = next(iter(error.recipients.values()))[0]
            if 400 <= code < 500:
                raise Retryable(f"SMTP {code}: recipient deferred") from None
            raise Permanent(f"SMTP {code}: recipient refused") from None
        except smtplib.SMTPResponseException as error:
            if 400 <= error.smtp_code < 500:
                raise Retryable(f"SMTP {error.smtp_code}") from None
            raise Permanent(f"SMTP {error.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as error:
            raise Retryable(f"SMTP connection failed: {type(error).__name__}") from None
        return Sent(delivered=False, detail=f"accepted by {settings.host} ({self._language(message)})")

    def _connect(self, settings: SmtpSettings, address: str) -> smtplib.SMTP:
        timeout = self.context.timeout_seconds
        if settings.security == "ssl":
            return smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=ssl.create_default_context())
        if settings.security == "starttls":
            server = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
            server.starttls(context=ssl.create_default_context())
            return server
        return smtplib.SMTP(address, settings.port, timeout=timeout)  # the checked address itself

    def _template(self, message: Message) -> "EmailTemplate":
        settings: SmtpSettings = self.settings  # type: ignore[assignment]
        by_language = settings.templates.get(message.template)
        if by_language is None:
            raise Permanent(f"templates: no template {message.template!r} (has {', '.join(sorted(settings.templates))})")
        language = self._language(message)
        chosen = by_language.get(language) or by_language.get(language.split("-")[0]) or by_language.get(settings.default_language)
        if chosen is None:
            raise Permanent(f"templates.{message.template}: neither {language!r} nor the default language {settings.default_language!r}")
        return chosen

    def _language(self, message: Message) -> str:
        settings: SmtpSettings = self.settings  # type: ignore[assignment]
        return str(message.payload.get("language") or message.contact.get("language") or settings.default_language).replace("_", "-")
