CREATE TABLE IF NOT EXISTS `cdp`.`customer_days_state`
(
    `customer_id` String COMMENT 'The customer the events were assigned to when processed.',
    `days` AggregateFunction(groupUniqArray, Date) COMMENT 'The set of days with at least one event.'
)
ENGINE = AggregatingMergeTree
ORDER BY (customer_id)
COMMENT 'Aggregate states behind the view customer_days; read that view.';

CREATE MATERIALIZED VIEW IF NOT EXISTS `cdp`.`customer_days_mv` TO `cdp`.`customer_days_state`
AS SELECT customer_id AS customer_id, groupUniqArrayState(toDate(occurred_at)) AS days
FROM `cdp`.`events`
WHERE 1
GROUP BY customer_id;

CREATE VIEW IF NOT EXISTS `cdp`.`customer_days`
AS SELECT customer_id, groupUniqArrayMerge(days) AS days
FROM `cdp`.`customer_days_state`
GROUP BY customer_id
COMMENT 'The days (UTC) on which each customer had at least one event, kept up to date as events arrive; no FINAL needed. customer_id is the id written on the events: follow customer_merges for customers merged into another. Columns: customer_id, days (Array(Date)).';

INSERT INTO `cdp`.`customer_days_state` SELECT customer_id AS customer_id, groupUniqArrayState(toDate(occurred_at)) AS days
FROM `cdp`.`events`
WHERE 1
GROUP BY customer_id;

