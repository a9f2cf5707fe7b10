CREATE TABLE IF NOT EXISTS `cdp`.`customer_survivors`
(
    `absorbed` String COMMENT 'A customer id merged into another.',
    `survivor` String COMMENT 'The customer it was merged into.'
)
ENGINE = Join(ANY, LEFT, absorbed)
COMMENT 'customer_merges as an in-memory join table (absorbed → survivor), kept by a materialized view, for queries that count events for the customer they belong to now: ... ANY LEFT JOIN customer_survivors AS m ON m.absorbed = customer_id';

CREATE MATERIALIZED VIEW IF NOT EXISTS `cdp`.`customer_survivors_mv` TO `cdp`.`customer_survivors`
AS SELECT absorbed, survivor FROM `cdp`.`customer_merges`;

INSERT INTO `cdp`.`customer_survivors` SELECT absorbed, survivor FROM `cdp`.`customer_merges`;

