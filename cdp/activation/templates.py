"""Message templates: administrator configuration rendered with customer data, in Jinja2's sandbox.

The template text is an administrator's, but the values are customers' (hostile, docs/architecture.md
§2.8): the sandbox keeps a template from reaching Python internals through them, and a missing
field is an error naming it (``StrictUndefined``), never a message with a hole in it. Texts are
plain (emails and chat messages as text), so nothing is HTML-escaped.

A template sees ``customer`` (the contact details read at send time: ``email``, ``phone``,
``language``, ``name``), ``payload`` (the action's fields), ``rule``, ``channel`` and ``cause_time``.
"""

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from cdp.activation.destinations import Message, Permanent

_ENVIRONMENT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=256)
def _compiled(text: str):
    return _ENVIRONMENT.from_string(text)


def check_template(text: str) -> str:
    """``text`` if it compiles; ``ValueError`` with the syntax problem otherwise (the settings model names the field)."""
    try:
        _compiled(text)
    except TemplateError as error:
        raise ValueError(f"not a valid template: {error}") from None
    return text


def render(text: str, message: Message, what: str) -> str:
    """The template ``text`` for ``message``; ``Permanent`` naming ``what`` and the missing field otherwise."""
    try:
        return _compiled(text).render(variables(message))
    except UndefinedError as error:
        raise Permanent(f"{what}: {error}") from None
    except TemplateError as error:
        raise Permanent(f"{what}: {type(error).__name__}: {error}") from None


def variables(message: Message) -> dict[str, Any]:
    return {"customer": message.contact, "payload": message.payload, "rule": message.rule, "channel": message.channel, "cause_time": message.cause_time.isoformat()}
