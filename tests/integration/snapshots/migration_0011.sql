CREATE VIEW IF NOT EXISTS `cdp`.`events_current`
AS SELECT `position`, `message_id`, `event_type`, `source_kind`, `source_name`, `occurred_at`, `received_at`, `customer_id`, `anonymous_id`, `user_id`, `email`, `phone`, `social`, `account_id`, `traits`, `properties`, `context`
FROM `cdp`.`events` FINAL
COMMENT 'Current rows of events: FINAL applied, retracted rows and bookkeeping columns dropped. Every accepted touchpoint, one row per event.';

CREATE VIEW IF NOT EXISTS `cdp`.`profiles_current`
AS SELECT `customer_id`, `merged_into`, `anonymous_ids`, `user_ids`, `emails`, `phones`, `social_handles`, `account_ids`, `traits`, `first_seen`, `last_seen`, `channels`, `sources`, `events_total`, `events_website`, `events_social`, `events_sales`, `events_service`, `events_survey`, `orders`, `revenue`, `refunds`, `first_purchase_at`, `last_purchase_at`, `last_nps`, `lifecycle_stage`, `lifecycle_since`, `lifecycle_cause`, `as_of`
FROM `cdp`.`profiles` FINAL
COMMENT 'Current rows of profiles: FINAL applied, retracted rows and bookkeeping columns dropped. The unified customer profile, one current row per customer.';

CREATE VIEW IF NOT EXISTS `cdp`.`identities_current`
AS SELECT `identifier`, `id_type`, `customer_id`
FROM `cdp`.`identities` FINAL
COMMENT 'Current rows of identities: FINAL applied, retracted rows and bookkeeping columns dropped. Identifier → customer, current assignment.';

CREATE VIEW IF NOT EXISTS `cdp`.`customer_merges_current`
AS SELECT `absorbed`, `survivor`, `position`, `occurred_at`, `reason`, `reason_code`, `reason_params`
FROM `cdp`.`customer_merges` FINAL
COMMENT 'Current rows of customer_merges: FINAL applied, retracted rows and bookkeeping columns dropped. One row per merge of two customers into one: which, when, and why.';

CREATE VIEW IF NOT EXISTS `cdp`.`lifecycle_transitions_current`
AS SELECT `customer_id`, `at`, `from_stage`, `to_stage`, `cause`, `cause_code`, `cause_params`
FROM `cdp`.`lifecycle_transitions` FINAL
COMMENT 'Current rows of lifecycle_transitions: FINAL applied, retracted rows and bookkeeping columns dropped. Every lifecycle stage change of every customer, e.g. who moved from repeat to at_risk in October.';

CREATE VIEW IF NOT EXISTS `cdp`.`identity_refusals_current`
AS SELECT `customer_id`, `other_customer`, `identifier`, `id_type`, `position`, `occurred_at`, `reason`
FROM `cdp`.`identity_refusals` FINAL
COMMENT 'Current rows of identity_refusals: FINAL applied, retracted rows and bookkeeping columns dropped. One row per identifier join refused by the identity limits: a merge of two customers or an identifier not attached.';

CREATE VIEW IF NOT EXISTS `cdp`.`customer_traits_current`
AS SELECT `customer_id`, `events_by_type`, `events_by_source`, `preferred_channel`, `last_activity_by_channel`, `consent`, `account_ids`
FROM `cdp`.`customer_traits` FINAL
COMMENT 'Current rows of customer_traits: FINAL applied, retracted rows and bookkeeping columns dropped. Computed traits per customer: events per type and source, preferred channel, last activity per channel, consent, enterprise accounts.';

CREATE VIEW IF NOT EXISTS `cdp`.`customer_tags_current`
AS SELECT `customer_id`, `tags`, `tags_since`
FROM `cdp`.`customer_tags` FINAL
COMMENT 'Current rows of customer_tags: FINAL applied, retracted rows and bookkeeping columns dropped. Current tags per customer, from the built-in and configured tag rules, evaluated as of the latest event time seen.';

CREATE VIEW IF NOT EXISTS `cdp`.`tag_changes_current`
AS SELECT `customer_id`, `tag`, `at`, `change`
FROM `cdp`.`tag_changes` FINAL
COMMENT 'Current rows of tag_changes: FINAL applied, retracted rows and bookkeeping columns dropped. Every tag gained or lost, with its event time, e.g. who became inactive in October.';

CREATE VIEW IF NOT EXISTS `cdp`.`customer_value_current`
AS SELECT `customer_id`, `recency_score`, `frequency_score`, `monetary_score`, `rfm`, `clv`, `tier`, `repurchase_count`, `purchase_amount`, `net_amount`, `average_order_value`, `referral_count`
FROM `cdp`.`customer_value` FINAL
COMMENT 'Current rows of customer_value: FINAL applied, retracted rows and bookkeeping columns dropped. Customer value (docs/domain.md §6): RFM scores from fixed thresholds, historic CLV (AOV × purchases per year × lifetime years × margin), tier ordinary / vip / super.';

CREATE VIEW IF NOT EXISTS `cdp`.`customer_satisfaction_current`
AS SELECT `customer_id`, `nps_answers`, `last_nps`, `nps_category`, `nps`, `csat_answers`, `csat_average`, `csat_satisfied_pct`, `csi_answers`, `last_csi`, `csi_average`, `texts_positive`, `texts_neutral`, `texts_negative`, `last_sentiment`, `last_sentiment_terms`
FROM `cdp`.`customer_satisfaction` FINAL
COMMENT 'Current rows of customer_satisfaction: FINAL applied, retracted rows and bookkeeping columns dropped. Satisfaction per customer (docs/domain.md §8). Overall figures per period come from survey_answers.';

CREATE VIEW IF NOT EXISTS `cdp`.`survey_answers_current`
AS SELECT `position`, `customer_id`, `at`, `kind`, `event_type`, `score`, `category`, `terms`, `topics`
FROM `cdp`.`survey_answers` FINAL
COMMENT 'Current rows of survey_answers: FINAL applied, retracted rows and bookkeeping columns dropped. One row per satisfaction signal: NPS, CSAT, CSI answers and free texts with their sentiment and topics. Overall NPS per month: SELECT toStartOfMonth(at) m, 100 * (countIf(category = \'promoter\') - countIf(category = \'detractor\')) / count() FROM cdp.survey_answers FINAL WHERE kind = \'nps\' GROUP BY m. Texts per topic and month: SELECT toStartOfMonth(at) m, arrayJoin(topics) topic, count() FROM cdp.survey_answers FINAL WHERE kind = \'text\' GROUP BY m, topic.';

CREATE VIEW IF NOT EXISTS `cdp`.`tickets_current`
AS SELECT `customer_id`, `ticket_id`, `opened_at`, `channel`, `category`, `priority`, `is_complaint`, `status`, `first_response_at`, `resolved_at`, `response_minutes`, `resolution_minutes`, `escalations`, `reopens`, `response_due`, `response_sla`, `resolution_due`, `resolution_sla`
FROM `cdp`.`tickets` FINAL
COMMENT 'Current rows of tickets: FINAL applied, retracted rows and bookkeeping columns dropped. One row per service ticket (docs/domain.md §9): SLA state of first response and resolution, escalations, response and resolution minutes. Overall figures: aggregate this table, e.g. countIf(response_sla = \'breached\') / count().';

CREATE VIEW IF NOT EXISTS `cdp`.`customer_service_current`
AS SELECT `customer_id`, `tickets`, `complaints`, `open_tickets`, `response_breaches`, `resolution_breaches`, `escalations`, `avg_response_minutes`, `avg_resolution_minutes`, `sla_state`
FROM `cdp`.`customer_service` FINAL
COMMENT 'Current rows of customer_service: FINAL applied, retracted rows and bookkeeping columns dropped. Service per customer: tickets, open, SLA breaches, escalations, average response and resolution times.';

CREATE VIEW IF NOT EXISTS `cdp`.`churn_risk_current`
AS SELECT `customer_id`, `score`, `level`, `reasons`, `reason_codes`, `reason_params`
FROM `cdp`.`churn_risk` FINAL
COMMENT 'Current rows of churn_risk: FINAL applied, retracted rows and bookkeeping columns dropped. Churn early warning (docs/domain.md §11): score 0-100 = sum of the weights of the warning signs present, each listed as a reason.';

CREATE VIEW IF NOT EXISTS `cdp`.`customer_loyalty_current`
AS SELECT `customer_id`, `points`, `points_from_purchases`, `points_from_referrals`, `points_refunded`, `tier`, `next_tier`, `to_next_tier`, `lifetime_points`, `points_redeemed`, `redemptions`, `overdrawn`
FROM `cdp`.`customer_loyalty` FINAL
COMMENT 'Current rows of customer_loyalty: FINAL applied, retracted rows and bookkeeping columns dropped. Loyalty programme (docs/domain.md §10): points from purchases and referrals, minus refunds, minus redemptions; tier by the balance, lifetime points or spend.';

CREATE TABLE IF NOT EXISTS `cdp`.`daily_events_state`
(
    `day` Date COMMENT 'Event day (UTC).',
    `source_kind` LowCardinality(String) COMMENT 'website, social, sales, service or survey.',
    `source_name` LowCardinality(String) COMMENT 'The configured source.',
    `event_type` LowCardinality(String) COMMENT 'What happened.',
    `events` AggregateFunction(groupBitmap, UInt64) COMMENT 'Event-log positions (each event counted once, even if written twice).'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, source_kind, source_name, event_type)
COMMENT 'Aggregate states behind the view daily_events; read that view.';

CREATE MATERIALIZED VIEW IF NOT EXISTS `cdp`.`daily_events_mv` TO `cdp`.`daily_events_state`
AS SELECT toDate(occurred_at) AS day, source_kind AS source_kind, source_name AS source_name, event_type AS event_type, groupBitmapState(position) AS events
FROM `cdp`.`events`
WHERE 1
GROUP BY day, source_kind, source_name, event_type;

CREATE VIEW IF NOT EXISTS `cdp`.`daily_events`
AS SELECT day, source_kind, source_name, event_type, groupBitmapMerge(events) AS events
FROM `cdp`.`daily_events_state`
GROUP BY day, source_kind, source_name, event_type
COMMENT 'Events per day (UTC), source kind, source and event type, kept up to date as events arrive; no FINAL needed. Columns: day, source_kind, source_name, event_type, events.';

INSERT INTO `cdp`.`daily_events_state` SELECT toDate(occurred_at) AS day, source_kind AS source_kind, source_name AS source_name, event_type AS event_type, groupBitmapState(position) AS events
FROM `cdp`.`events`
WHERE 1
GROUP BY day, source_kind, source_name, event_type;

CREATE TABLE IF NOT EXISTS `cdp`.`daily_sales_state`
(
    `day` Date COMMENT 'Event day (UTC).',
    `source_name` LowCardinality(String) COMMENT 'The configured source (shop, POS, CRM, ...).',
    `currency` LowCardinality(String) COMMENT 'Currency of the amounts, as sent.',
    `purchases` AggregateFunction(groupBitmap, UInt64) COMMENT 'Event-log positions of purchases.',
    `amounts` AggregateFunction(maxMap, Array(UInt64), Array(Float64)) COMMENT 'Purchase position → amount.',
    `refund_events` AggregateFunction(groupBitmap, UInt64) COMMENT 'Event-log positions of refunds.',
    `refund_amounts` AggregateFunction(maxMap, Array(UInt64), Array(Float64)) COMMENT 'Refund position → amount.'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, source_name, currency)
COMMENT 'Aggregate states behind the view daily_sales; read that view.';

CREATE MATERIALIZED VIEW IF NOT EXISTS `cdp`.`daily_sales_mv` TO `cdp`.`daily_sales_state`
AS SELECT toDate(occurred_at) AS day, source_name AS source_name, JSONExtractString(properties, 'currency') AS currency, groupBitmapStateIf(position, event_type = 'order_refunded' = 0) AS purchases, maxMapStateIf([position], [JSONExtractFloat(properties, 'amount')], event_type = 'order_refunded' = 0) AS amounts, groupBitmapStateIf(position, event_type = 'order_refunded') AS refund_events, maxMapStateIf([position], [JSONExtractFloat(properties, 'amount')], event_type = 'order_refunded') AS refund_amounts
FROM `cdp`.`events`
WHERE event_type IN ['order_placed', 'order_refunded', 'store_purchase_made']
GROUP BY day, source_name, currency;

CREATE VIEW IF NOT EXISTS `cdp`.`daily_sales`
AS SELECT day, source_name, currency, groupBitmapMerge(purchases) AS purchases, round(arraySum(maxMapMerge(amounts).2), 2) AS revenue, groupBitmapMerge(refund_events) AS refunds, round(arraySum(maxMapMerge(refund_amounts).2), 2) AS refunded
FROM `cdp`.`daily_sales_state`
GROUP BY day, source_name, currency
COMMENT 'Purchases (online orders and in-store purchases) and their amounts per day (UTC), source and currency; refunds separately. Kept up to date as events arrive; no FINAL needed. Columns: day, source_name, currency, purchases, revenue, refunds, refunded.';

INSERT INTO `cdp`.`daily_sales_state` SELECT toDate(occurred_at) AS day, source_name AS source_name, JSONExtractString(properties, 'currency') AS currency, groupBitmapStateIf(position, event_type = 'order_refunded' = 0) AS purchases, maxMapStateIf([position], [JSONExtractFloat(properties, 'amount')], event_type = 'order_refunded' = 0) AS amounts, groupBitmapStateIf(position, event_type = 'order_refunded') AS refund_events, maxMapStateIf([position], [JSONExtractFloat(properties, 'amount')], event_type = 'order_refunded') AS refund_amounts
FROM `cdp`.`events`
WHERE event_type IN ['order_placed', 'order_refunded', 'store_purchase_made']
GROUP BY day, source_name, currency;

