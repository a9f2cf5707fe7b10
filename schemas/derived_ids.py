"""Name-based (version 5) UUIDs computed without ``uuid.UUID`` objects.

Event ids (``cdp.eventstore.event_id``) and customer ids (``projections.identity.new_customer_id``)
are ``uuid5(namespace, "<source>/<message id>")``, derived once per event stored and once per
customer created; ``uuid.uuid5`` builds two ``UUID`` objects a call, about 4× the cost of the hash
(BENCHMARKS.md, "the relay (issue 23)").
"""

import hashlib


def uuid5_hex(namespace: bytes, name: str) -> str:
    """``uuid.uuid5(UUID(bytes=namespace), name).hex``."""
    digest = bytearray(hashlib.sha1(namespace + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return digest.hex()


def uuid5_str(namespace: bytes, name: str) -> str:
    """``str(uuid.uuid5(UUID(bytes=namespace), name))``: the hex digits in 8-4-4-4-12 groups."""
    digits = uuid5_hex(namespace, name)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
