ALTER TABLE `cdp`.`customer_loyalty` ADD COLUMN IF NOT EXISTS `lifetime_points` Int64 COMMENT 'Points earned (purchases and referrals, minus refunds), redemptions not subtracted.' AFTER `to_next_tier`;

ALTER TABLE `cdp`.`customer_loyalty` ADD COLUMN IF NOT EXISTS `points_redeemed` Int64 COMMENT 'Points redeemed (points_redeemed events).' AFTER `lifetime_points`;

ALTER TABLE `cdp`.`customer_loyalty` ADD COLUMN IF NOT EXISTS `redemptions` UInt32 COMMENT 'Number of redemptions.' AFTER `points_redeemed`;

ALTER TABLE `cdp`.`customer_loyalty` ADD COLUMN IF NOT EXISTS `overdrawn` UInt8 COMMENT '1 when more points were redeemed than earned: the balance (points) is negative.' AFTER `redemptions`;

ALTER TABLE `cdp`.`customer_loyalty` COMMENT COLUMN `points` 'Points balance: lifetime points minus points redeemed (negative when overdrawn).';

ALTER TABLE `cdp`.`customer_loyalty` MODIFY COMMENT 'Loyalty programme (docs/domain.md §10): points from purchases and referrals, minus refunds, minus redemptions; tier by the balance, lifetime points or spend. Read with FINAL: older versions and customers merged into another are dropped.';

DROP VIEW IF EXISTS `cdp`.`customer_loyalty_current`;

CREATE VIEW IF NOT EXISTS `cdp`.`customer_loyalty_current`
AS SELECT `customer_id`, `points`, `points_from_purchases`, `points_from_referrals`, `points_refunded`, `tier`, `next_tier`, `to_next_tier`, `lifetime_points`, `points_redeemed`, `redemptions`, `overdrawn`
FROM `cdp`.`customer_loyalty` FINAL
COMMENT 'Current rows of customer_loyalty: FINAL applied, retracted rows and bookkeeping columns dropped. Loyalty programme (docs/domain.md §10): points from purchases and referrals, minus refunds, minus redemptions; tier by the balance, lifetime points or spend.';

