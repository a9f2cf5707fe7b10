ALTER TABLE `cdp`.`lifecycle_transitions` ADD COLUMN IF NOT EXISTS `cause_code` LowCardinality(String) COMMENT 'The cause as a code, e.g. \'first_purchase\', \'no_purchase_for\', \'detractor\' (projections/causes.py); empty on rows written before codes.' AFTER `cause`;

ALTER TABLE `cdp`.`lifecycle_transitions` ADD COLUMN IF NOT EXISTS `cause_params` String COMMENT 'The cause\'s numbers and names as a JSON object, e.g. \'{"nps":3}\'.' AFTER `cause_code`;

ALTER TABLE `cdp`.`lifecycle_transitions` MODIFY COMMENT 'Every lifecycle stage change of every customer, e.g. who moved from repeat to at_risk in October. Read with FINAL: a transition later disproved (a late event, a merge) is retracted.';

DROP VIEW IF EXISTS `cdp`.`lifecycle_transitions_current`;

CREATE VIEW IF NOT EXISTS `cdp`.`lifecycle_transitions_current`
AS SELECT `customer_id`, `at`, `from_stage`, `to_stage`, `cause`, `cause_code`, `cause_params`
FROM `cdp`.`lifecycle_transitions` FINAL
COMMENT 'Current rows of lifecycle_transitions: FINAL applied, retracted rows and bookkeeping columns dropped. Every lifecycle stage change of every customer, e.g. who moved from repeat to at_risk in October.';

ALTER TABLE `cdp`.`churn_risk` ADD COLUMN IF NOT EXISTS `reason_codes` Array(LowCardinality(String)) COMMENT 'Each reason\'s warning sign, e.g. \'detractor\' (projections/causes.py); empty on rows written before codes.' AFTER `reasons`;

ALTER TABLE `cdp`.`churn_risk` ADD COLUMN IF NOT EXISTS `reason_params` Array(String) COMMENT 'Each reason\'s numbers and weight as a JSON object, e.g. \'{"nps":3,"weight":25}\'.' AFTER `reason_codes`;

ALTER TABLE `cdp`.`churn_risk` MODIFY COMMENT 'Churn early warning (docs/domain.md §11): score 0-100 = sum of the weights of the warning signs present, each listed as a reason. Read with FINAL: older versions and customers merged into another are dropped.';

DROP VIEW IF EXISTS `cdp`.`churn_risk_current`;

CREATE VIEW IF NOT EXISTS `cdp`.`churn_risk_current`
AS SELECT `customer_id`, `score`, `level`, `reasons`, `reason_codes`, `reason_params`
FROM `cdp`.`churn_risk` FINAL
COMMENT 'Current rows of churn_risk: FINAL applied, retracted rows and bookkeeping columns dropped. Churn early warning (docs/domain.md §11): score 0-100 = sum of the weights of the warning signs present, each listed as a reason.';

