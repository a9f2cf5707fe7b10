ALTER TABLE `cdp`.`churn_level_changes` ADD COLUMN IF NOT EXISTS `reason_params` Array(String) COMMENT 'Each reason\'s numbers and weight as a JSON object, e.g. \'{"nps":3,"weight":25}\'; its code is the sign at the same index (projections/causes.py). Empty on rows written before codes.' AFTER `reasons`;

ALTER TABLE `cdp`.`churn_level_changes` MODIFY COMMENT 'Every change of a customer\'s churn-risk level (docs/domain.md §11), in event time; a rise to medium or high is a warning raised (the churn_warnings view lists them with the churn that followed). Every customer starts low. Read with FINAL: a change later disproved (a late event, a merge) is retracted.';

DROP VIEW IF EXISTS `cdp`.`churn_level_changes_current`;

CREATE VIEW IF NOT EXISTS `cdp`.`churn_level_changes_current`
AS SELECT `customer_id`, `at`, `from_level`, `to_level`, `score`, `signs`, `reasons`, `reason_params`
FROM `cdp`.`churn_level_changes` FINAL
COMMENT 'Current rows of churn_level_changes: FINAL applied, retracted rows and bookkeeping columns dropped. Every change of a customer\'s churn-risk level (docs/domain.md §11), in event time; a rise to medium or high is a warning raised (the churn_warnings view lists them with the churn that followed). Every customer starts low.';

ALTER TABLE `cdp`.`customer_merges` ADD COLUMN IF NOT EXISTS `reason_code` LowCardinality(String) COMMENT 'The reason as a code, \'named_both\' (projections/causes.py); empty on rows written before codes.' AFTER `reason`;

ALTER TABLE `cdp`.`customer_merges` ADD COLUMN IF NOT EXISTS `reason_params` String COMMENT 'The reason\'s event and identifier types as a JSON object, e.g. \'{"event":"shop/m1","id_types":["email"]}\'.' AFTER `reason_code`;

ALTER TABLE `cdp`.`customer_merges` MODIFY COMMENT 'One row per merge of two customers into one: which, when, and why.';

DROP VIEW IF EXISTS `cdp`.`customer_merges_current`;

CREATE VIEW IF NOT EXISTS `cdp`.`customer_merges_current`
AS SELECT `absorbed`, `survivor`, `position`, `occurred_at`, `reason`, `reason_code`, `reason_params`
FROM `cdp`.`customer_merges` FINAL
COMMENT 'Current rows of customer_merges: FINAL applied, retracted rows and bookkeeping columns dropped. One row per merge of two customers into one: which, when, and why.';

