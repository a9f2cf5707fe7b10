"""Which customer is this now: the one answer profile, timeline, identity explain and forget share.

Events, identifiers and rows keep the customer id they were written with; a merge retires the
absorbed customer into its survivor (``customer_merges``), and the survivor may itself be merged
later. So a customer id, or an identifier, names the customer at the end of that chain: with A
merged into B and B into C, A, B, C and every identifier of theirs resolve to C, and C's history
is that of A, B and C together (``merged_into``). Chains are followed one level per query: a
lookup by ``absorbed`` uses the table's sort key, and chains are short. Queries that count events
for their current customer inside the warehouse follow the same chains (``cdp.queries.survivor_sql``).
"""

from cdp.warehouse import Warehouse
from schemas import PERSON_ID_TYPES as IDENTIFIER_TYPES
from projections.tables import customer_merges, identities, profiles



class Customers:
    """Resolves identifiers and customer ids to the customers they belong to now."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse
        self._merges = f"`{warehouse.database}`.`{customer_merges.TABLE.name}`"

    def resolve_all(self, identifier: str) -> list[str]:
        """Every current customer ``identifier`` names (a customer id, or an email, phone, user id,
        anonymous id or platform:handle of theirs); usually one, none when unknown."""
        return sorted({self.current(c) for c in self._named(identifier)})

    def current(self, customer_id: str) -> str:
        """The customer ``customer_id`` was merged into, following the chain to its end (itself if never merged)."""
        seen = {customer_id}
        while rows := self.warehouse.query(f"SELECT survivor FROM {self._merges} FINAL WHERE absorbed = {{id:String}} LIMIT 1", {"id": customer_id}):
            customer_id = rows[0]["survivor"]
            if customer_id in seen:  # a cycle cannot come from the identity projection; never loop on one
                break
            seen.add(customer_id)
        return customer_id

    def merged_into(self, customer_id: str) -> list[str]:
        """The customer and every customer merged into it, directly or through a chain, sorted."""
        found, frontier = {customer_id}, [customer_id]
        while frontier:
            rows = self.warehouse.query(f"SELECT DISTINCT absorbed FROM {self._merges} FINAL WHERE survivor IN {{ids:Array(String)}}", {"ids": frontier})
            frontier = [r["absorbed"] for r in rows if r["absorbed"] not in found]
            found.update(frontier)
        return sorted(found)

    def _named(self, identifier: str) -> set[str]:
        """Customer ids ``identifier`` names as written: an identifier's owner, a customer id, an absorbed id."""
        text = identifier.strip()
        candidates = [f"{t}:{text.lower() if t == 'email' else text}" for t in IDENTIFIER_TYPES]
        db = self.warehouse.database
        rows = self.warehouse.query(
            f"SELECT DISTINCT customer_id FROM `{db}`.`{identities.TABLE.name}` FINAL WHERE identifier IN {{candidates:Array(String)}} "
            f"UNION DISTINCT SELECT absorbed FROM {self._merges} WHERE absorbed = {{text:String}} "
            f"UNION DISTINCT SELECT customer_id FROM `{db}`.`{profiles.TABLE.name}` FINAL WHERE customer_id = {{text:String}}",
            {"candidates": candidates, "text": text},
        )
        return {row["customer_id"] for row in rows}
