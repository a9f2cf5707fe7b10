"""Removes a forgotten customer's personal data from the warehouse, leaving no copy on disk.

An ``ALTER TABLE ... UPDATE/DELETE`` mutation would write new parts but keep the old ones, with the
plaintext, on disk until ``old_parts_lifetime`` passes. So
each table holding the customer's personal data is rewritten instead: a copy gets every other row
as is and the customer's rows scrubbed (``SELECT * REPLACE``), the copy is swapped in with
``EXCHANGE TABLES`` (atomic; materialized views follow the name) and the old table is dropped with
``SYNC``, which deletes its files at once. The statements name customer ids and the erasure token
only, never a personal value, so the server's query log cannot hold one either.

The customer's rows keep every count (events, orders, revenue), so analytics stay correct.
"""

import hashlib

import orjson

from cdp.warehouse import Warehouse
from cdp.warehouse.statements import quote_string
from projections.tables import events, identities, identity_refusals, profiles, suppressions
from schemas import PAYLOAD_BY_EVENT_TYPE
from schemas.personal import public_view


def scrub(warehouse: Warehouse, customer_ids: list[str], identifiers: list[str], survivor: str, user_id: str, version: int) -> dict[str, int]:
    """Scrubs the rows of ``customer_ids`` (a customer and those merged into it) and the suppressions of their
    ``identifiers`` (``type:value`` keys); returns rows per table."""
    ids = _array(customer_ids)
    token = quote_string(user_id)
    token_key = quote_string(f"user_id:{user_id}")
    mine = f"customer_id IN {ids}"
    rows = {
        events.TABLE.name: _rewrite(warehouse, events.TABLE.name, mine, _event_replacements(warehouse, customer_ids, token)),
        profiles.TABLE.name: _rewrite(
            warehouse,
            profiles.TABLE.name,
            mine,
            "emptyArrayString() AS anonymous_ids, if(is_deleted = 1, emptyArrayString(), [" + token + "]) AS user_ids, emptyArrayString() AS emails, "
            "emptyArrayString() AS phones, emptyArrayString() AS social_handles, '{}' AS traits",
        ),
        identities.TABLE.name: _rewrite(warehouse, identities.TABLE.name, mine, None),
    }
    theirs = f"other_customer IN {ids} OR (customer_id IN {ids} AND other_customer = '')"  # the identifier was this customer's
    rows[identity_refusals.TABLE.name] = _rewrite(
        warehouse,
        identity_refusals.TABLE.name,
        f"customer_id IN {ids} OR other_customer IN {ids}",
        f"if({theirs}, {token_key}, identifier) AS identifier, if({theirs}, 'user_id', id_type) AS id_type",
    )
    # suppressions are keyed by identifier, not customer: matched by SHA-256 so no value enters the SQL text
    digests = _array([hashlib.sha256(key.encode()).hexdigest() for key in identifiers])
    rows[suppressions.TABLE.name] = _rewrite(warehouse, suppressions.TABLE.name, f"lower(hex(SHA256(identifier))) IN {digests}", None)
    warehouse.insert(identities.TABLE.name, [identities.row(f"user_id:{user_id}", survivor, version)])
    return rows


def _event_replacements(warehouse: Warehouse, customer_ids: list[str], token: str) -> str:
    found = warehouse.query(
        f"SELECT position, event_type, properties FROM `{warehouse.database}`.`{events.TABLE.name}` WHERE customer_id IN {{ids:Array(String)}}",
        {"ids": customer_ids},
    )
    positions = ",".join(str(int(r["position"])) for r in found)
    cleaned = ",".join(quote_string(_without_personal(r["event_type"], r["properties"])) for r in found)
    return (
        f"'' AS anonymous_id, {token} AS user_id, '' AS email, '' AS phone, emptyArrayString() AS social, '{{}}' AS traits, '{{}}' AS context, "
        f"transform(position, CAST([{positions}] AS Array(UInt64)), CAST([{cleaned}] AS Array(String)), properties) AS properties"
    )


def _without_personal(event_type: str, properties: str) -> str:
    """The properties as the event opens once its key is shredded (``cdp.privacy.sealing``): public values only."""
    return orjson.dumps(public_view(PAYLOAD_BY_EVENT_TYPE[event_type], orjson.loads(properties))).decode()


def _rewrite(warehouse: Warehouse, table: str, where: str, replace: str | None) -> int:
    """Rewrites ``table`` with the rows matching ``where`` changed by ``replace`` (dropped when None)."""
    db = warehouse.database
    name, copy = f"`{db}`.`{table}`", f"`{db}`.`{table}__erasing`"
    matching = int(warehouse.query(f"SELECT count() AS n FROM {name} WHERE {where}")[0]["n"])
    if not matching:
        return 0
    warehouse.execute(f"DROP TABLE IF EXISTS {copy} SYNC")  # left by an interrupted run
    warehouse.execute(f"CREATE TABLE {copy} AS {name}")
    warehouse.execute(f"INSERT INTO {copy} SELECT * FROM {name} WHERE NOT ({where})")
    if replace is not None:
        warehouse.execute(f"INSERT INTO {copy} SELECT * REPLACE ({replace}) FROM {name} WHERE {where}")
    warehouse.execute(f"EXCHANGE TABLES {name} AND {copy}")
    warehouse.execute(f"DROP TABLE {copy} SYNC")
    return matching


def _array(values: list[str]) -> str:
    return "[" + ",".join(quote_string(v) for v in values) + "]"
