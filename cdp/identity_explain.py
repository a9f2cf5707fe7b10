"""`cdp identity explain ID`: which events joined which identifiers into one customer.

Reads back the customer's events (and those of customers merged into it) in log order and lists,
per event, the identifiers it brought that had not been seen before, and whether the identity
rules let them join (blocked identifiers never do); then the merges with their reasons (the
English text, and its code and parameters for the console to word in its reader's language:
projections/causes.py) and the joins the limits refused.
"""

from typing import Any

from cdp.customers import Customers
from cdp.timetravel import touchpoints
from cdp.warehouse import Warehouse
from projections.identity import IdentityRules
from projections.tables import customer_merges, identity_refusals
from schemas import person_keys


def explain(warehouse: Warehouse, customer_id: str, rules: IdentityRules) -> dict[str, Any]:
    customers = Customers(warehouse).merged_into(customer_id)
    db = warehouse.database
    read = warehouse.parallel({  # three independent reads, at once over the warehouse's connections
        "touchpoints": lambda: touchpoints(warehouse, customers),
        "merges": lambda: warehouse.query(
            f"SELECT position, occurred_at, absorbed, survivor, reason, reason_code, reason_params FROM `{db}`.`{customer_merges.TABLE.name}` FINAL "
            "WHERE survivor IN {ids:Array(String)} ORDER BY position",
            {"ids": customers},
        ),
        "refusals": lambda: warehouse.query(
            f"SELECT position, occurred_at, customer_id, other_customer, identifier, reason FROM `{db}`.`{identity_refusals.TABLE.name}` FINAL "
            "WHERE customer_id IN {ids:Array(String)} OR other_customer IN {ids:Array(String)} ORDER BY position",
            {"ids": customers},
        ),
    })
    seen: set[str] = set()
    steps = []
    for tp in read["touchpoints"]:
        new = [key for key in person_keys(tp.event["identifiers"]) if key not in seen]
        if not new:
            continue
        seen.update(new)
        steps.append({
            "position": tp.position,
            "occurred_at": tp.event["occurred_at"],
            "event": f"{tp.event['source_name']}/{tp.event['message_id']} ({tp.event['event_type']})",
            "joined": [k for k in new if rules.joins(k)],
            "blocked": [k for k in new if not rules.joins(k)],
            "with": [k for k in person_keys(tp.event["identifiers"]) if k not in new],
        })
    return {"customer_id": customer_id, "customers_merged_in": [c for c in customers if c != customer_id], "identifiers": steps, "merges": read["merges"], "refusals": read["refusals"]}
