CREATE TABLE IF NOT EXISTS `cdp`.`customer_survivors`
(
    `absorbed` String,
    `survivor` String
)
ENGINE = Join(ANY, LEFT, absorbed);

CREATE MATERIALIZED VIEW IF NOT EXISTS `cdp`.`customer_survivors_mv` TO `cdp`.`customer_survivors`
AS SELECT absorbed, survivor FROM `cdp`.`customer_merges`;

INSERT INTO `cdp`.`customer_survivors` SELECT absorbed, survivor FROM `cdp`.`customer_merges`;

