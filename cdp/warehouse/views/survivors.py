"""``customer_survivors``: absorbed customer → survivor, held in memory for the queries that follow merges.

Events keep the customer id they were written with; a query that counts them for the customer they
belong to now looks each id up in ``customer_merges``, once per merge of a chain (``cdp.queries.survivor_sql``).
Building a hash table from that table costs every such query a pass over every merge. This table is
the hash table itself (engine Join, ANY LEFT on ``absorbed``, kept on disk and loaded at start), filled by a
materialized view as merges are written. ANY keeps the first survivor written for a customer; a
customer is absorbed once, so a merge written twice names the same one. It is emptied with
``customer_merges`` (``cdp.rebuild``).
"""

from projections.tables import customer_merges

NAME = "customer_survivors"


def create_sql(database: str) -> list[str]:
    table, source = f"`{database}`.`{NAME}`", f"`{database}`.`{customer_merges.TABLE.name}`"
    return [
        f"CREATE TABLE IF NOT EXISTS {table}\n(\n"
        "    `absorbed` String COMMENT 'A customer id merged into another.',\n"
        "    `survivor` String COMMENT 'The customer it was merged into.'\n"
        ")\nENGINE = Join(ANY, LEFT, absorbed)\n"
        "COMMENT 'customer_merges as an in-memory join table (absorbed → survivor), kept by a materialized view, for queries "
        "that count events for the customer they belong to now: ... ANY LEFT JOIN customer_survivors AS m ON m.absorbed = customer_id'",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{NAME}_mv` TO {table}\nAS SELECT absorbed, survivor FROM {source}",
        f"INSERT INTO {table} SELECT absorbed, survivor FROM {source}",  # backfill; ANY keeps the first row per customer, so repeating it changes nothing
    ]
