CREATE TABLE IF NOT EXISTS `cdp`.`churn_level_changes`
(
    `customer_id` String COMMENT 'The customer.',
    `at` DateTime64(3, 'UTC') COMMENT 'When the level changed (event time).',
    `from_level` LowCardinality(String) COMMENT 'Level before: low, medium or high.',
    `to_level` LowCardinality(String) COMMENT 'Level after.',
    `score` UInt8 COMMENT 'The score after, 0-100.',
    `signs` Array(LowCardinality(String)) COMMENT 'The warning signs present after, by name: purchase_gap, falling_frequency, quiet, complaint_past_sla, recent_complaint, detractor, negative_feedback.',
    `reasons` Array(String) COMMENT 'The same signs as worded in churn_risk, with their weights.',
    `reason_params` Array(String) COMMENT 'Each reason\'s numbers and weight as a JSON object, e.g. \'{"nps":3,"weight":25}\'; its code is the sign at the same index (projections/causes.py). Empty on rows written before codes.',
    `version` UInt64 COMMENT 'Event-log position at which this was computed.',
    `is_deleted` UInt8 COMMENT '1 when the change was retracted.'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (customer_id, at)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Every change of a customer\'s churn-risk level (docs/domain.md §11), in event time; a rise to medium or high is a warning raised (the churn_warnings view lists them with the churn that followed). Every customer starts low. Read with FINAL: a change later disproved (a late event, a merge) is retracted.';

CREATE VIEW IF NOT EXISTS `cdp`.`churn_level_changes_current`
AS SELECT `customer_id`, `at`, `from_level`, `to_level`, `score`, `signs`, `reasons`, `reason_params`
FROM `cdp`.`churn_level_changes` FINAL
COMMENT 'Current rows of churn_level_changes: FINAL applied, retracted rows and bookkeeping columns dropped. Every change of a customer\'s churn-risk level (docs/domain.md §11), in event time; a rise to medium or high is a warning raised (the churn_warnings view lists them with the churn that followed). Every customer starts low.';

CREATE VIEW IF NOT EXISTS `cdp`.`churn_warnings`
AS SELECT w.customer_id AS customer_id, w.at AS at, w.from_level AS from_level, w.to_level AS to_level, w.score AS score, w.signs AS signs, w.reasons AS reasons, if(arrayExists(x -> x > w.at, c.churns), arrayFirst(x -> x > w.at, c.churns), NULL) AS churned_at, dateDiff('day', w.at, churned_at) AS days_to_churn
FROM (SELECT customer_id, at, from_level, to_level, score, signs, reasons FROM `cdp`.`churn_level_changes` FINAL WHERE indexOf(['low', 'medium', 'high'], to_level) > indexOf(['low', 'medium', 'high'], from_level)) AS w
LEFT JOIN (SELECT customer_id, arraySort(groupArray(at)) AS churns FROM `cdp`.`lifecycle_transitions` FINAL WHERE to_stage = 'churned' GROUP BY customer_id) AS c ON c.customer_id = w.customer_id
COMMENT 'Every churn warning raised (the churn-risk level rising to medium or high, from churn_level_changes) with the first churn after it (the lifecycle stage becoming churned, from lifecycle_transitions): churned_at and days_to_churn are NULL while the customer has not churned since. Columns: customer_id, at, from_level, to_level, score, signs, reasons, churned_at, days_to_churn.';

