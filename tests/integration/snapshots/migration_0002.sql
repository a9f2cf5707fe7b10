CREATE TABLE IF NOT EXISTS `cdp`.`identity_refusals`
(
    `customer_id` String COMMENT 'The customer the event was assigned to.',
    `other_customer` String COMMENT 'The customer that keeps the identifier (a refused merge), or empty (identifier left unattached).',
    `identifier` String COMMENT 'The identifier (type:value) that would have joined them. Personal data.',
    `id_type` LowCardinality(String) COMMENT 'Its type.',
    `position` UInt64 COMMENT 'Event-log position of the event.',
    `occurred_at` DateTime64(3, 'UTC') COMMENT 'Event time.',
    `reason` String COMMENT 'Which limit, e.g. \'merge refused: one customer would hold 2 phone identifiers (limit 1)\'.'
)
ENGINE = ReplacingMergeTree
ORDER BY (customer_id, position, identifier)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'One row per identifier join refused by the identity limits: a merge of two customers or an identifier not attached.';

CREATE TABLE IF NOT EXISTS `cdp`.`customer_traits`
(
    `customer_id` String COMMENT 'The customer.',
    `events_by_type` Map(String, UInt64) COMMENT 'Events per event type.',
    `events_by_source` Map(String, UInt64) COMMENT 'Events per source (connector or write key).',
    `preferred_channel` LowCardinality(String) COMMENT 'Source kind with the most meaningful interactions (ties: website, social, sales, service, survey).',
    `last_activity_by_channel` Map(String, DateTime64(3, 'UTC')) COMMENT 'Source kind → time of its latest event.',
    `consent` Map(String, String) COMMENT 'Purpose or channel → latest consent value by event time (traits named consent_*), as JSON text.',
    `account_ids` Array(String) COMMENT 'Enterprise accounts (companies) the customer acted for.',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY customer_id
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Computed traits per customer: events per type and source, preferred channel, last activity per channel, consent, enterprise accounts. Read with FINAL: older versions and customers merged into another are dropped.';

CREATE TABLE IF NOT EXISTS `cdp`.`customer_tags`
(
    `customer_id` String COMMENT 'The customer.',
    `tags` Array(LowCardinality(String)) COMMENT 'Tags held now, e.g. valid, active, repeat_buyer, promoter, spend_high, tier_vip.',
    `tags_since` Map(String, DateTime64(3, 'UTC')) COMMENT 'Tag → when (event time) the customer gained it.',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY customer_id
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Current tags per customer, from the built-in and configured tag rules, evaluated as of the latest event time seen. Read with FINAL: older versions and customers merged into another are dropped.';

CREATE TABLE IF NOT EXISTS `cdp`.`tag_changes`
(
    `customer_id` String COMMENT 'The customer.',
    `tag` LowCardinality(String) COMMENT 'The tag.',
    `at` DateTime64(3, 'UTC') COMMENT 'When it changed (event time).',
    `change` LowCardinality(String) COMMENT 'added or removed.',
    `version` UInt64 COMMENT 'Event-log position at which this was computed.',
    `is_deleted` UInt8 COMMENT '1 when the change was retracted.'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (customer_id, tag, at)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Every tag gained or lost, with its event time, e.g. who became inactive in October. Read with FINAL: a change later disproved (a late event, a merge) is retracted.';

CREATE TABLE IF NOT EXISTS `cdp`.`customer_value`
(
    `customer_id` String COMMENT 'The customer.',
    `recency_score` UInt8 COMMENT 'R: 5 = bought within 30 days ... 1 = over 365 days ago; 0 = never bought.',
    `frequency_score` UInt8 COMMENT 'F: 1-5 by number of purchases (0 = none).',
    `monetary_score` UInt8 COMMENT 'M: 1-5 by net purchase amount (0 = none).',
    `rfm` String COMMENT 'The three scores as one code, e.g. 545.',
    `clv` Float64 COMMENT 'Lifetime value estimate, historic AOV model, in the currencies sent.',
    `tier` LowCardinality(String) COMMENT 'ordinary, vip or super (普通/贵宾/超级客户).',
    `repurchase_count` UInt32 COMMENT 'Purchases after the first (回购次数).',
    `purchase_amount` Float64 COMMENT 'Gross purchase amount (购买金额).',
    `net_amount` Float64 COMMENT 'Purchase amount minus refunds.',
    `average_order_value` Float64 COMMENT 'Net amount per purchase.',
    `referral_count` UInt32 COMMENT 'People referred (推荐数量).',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY customer_id
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Customer value (docs/domain.md §6): RFM scores from fixed thresholds, historic CLV (AOV × purchases per year × lifetime years × margin), tier ordinary / vip / super. Read with FINAL: older versions and customers merged into another are dropped.';

CREATE TABLE IF NOT EXISTS `cdp`.`customer_satisfaction`
(
    `customer_id` String COMMENT 'The customer.',
    `nps_answers` UInt32 COMMENT 'NPS answers given.',
    `last_nps` Nullable(UInt8) COMMENT 'Latest NPS answer (0-10).',
    `nps_category` LowCardinality(String) COMMENT 'promoter (9-10), passive (7-8) or detractor (0-6), from the latest answer.',
    `nps` Nullable(Float64) COMMENT 'The customer\'s own NPS over all answers: % promoter answers − % detractor answers.',
    `csat_answers` UInt32 COMMENT 'CSAT answers given.',
    `csat_average` Nullable(Float64) COMMENT 'Average CSAT (1-5).',
    `csat_satisfied_pct` Nullable(Float64) COMMENT 'Share of CSAT answers of 4-5, in %.',
    `csi_answers` UInt32 COMMENT 'CSI answers given.',
    `last_csi` Nullable(Float64) COMMENT 'Latest CSI (weighted factor average, 0-10).',
    `csi_average` Nullable(Float64) COMMENT 'Average CSI.',
    `texts_positive` UInt32 COMMENT 'Free texts (feedback, survey comments, social texts) labelled positive.',
    `texts_neutral` UInt32 COMMENT 'Free texts labelled neutral.',
    `texts_negative` UInt32 COMMENT 'Free texts labelled negative.',
    `last_sentiment` LowCardinality(String) COMMENT 'Label of the latest free text.',
    `last_sentiment_terms` Array(String) COMMENT 'Lexicon terms that decided it (explanation).',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY customer_id
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Satisfaction per customer (docs/domain.md §8). Overall figures per period come from survey_answers. Read with FINAL: older versions and customers merged into another are dropped.';

CREATE TABLE IF NOT EXISTS `cdp`.`survey_answers`
(
    `position` UInt64 COMMENT 'Event-log position of the event.',
    `customer_id` String COMMENT 'The customer the event was assigned to when processed (after a later merge, see customer_merges).',
    `at` DateTime64(3, 'UTC') COMMENT 'Event time.',
    `kind` LowCardinality(String) COMMENT 'nps, csat, csi or text.',
    `event_type` LowCardinality(String) COMMENT 'The event that carried it.',
    `score` Nullable(Float64) COMMENT 'NPS 0-10, CSAT 1-5, CSI 0-10 (weighted), or the text\'s lexicon score.',
    `category` LowCardinality(String) COMMENT 'promoter / passive / detractor, satisfied / unsatisfied, or positive / neutral / negative.',
    `terms` Array(String) COMMENT 'For texts: the lexicon terms that matched.',
    `topics` Array(LowCardinality(String)) COMMENT 'For texts: what they are about (delivery, price, quality, service, ...; projections/topics.py).'
)
ENGINE = ReplacingMergeTree
ORDER BY (kind, at, position)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'One row per satisfaction signal: NPS, CSAT, CSI answers and free texts with their sentiment and topics. Overall NPS per month: SELECT toStartOfMonth(at) m, 100 * (countIf(category = \'promoter\') - countIf(category = \'detractor\')) / count() FROM cdp.survey_answers FINAL WHERE kind = \'nps\' GROUP BY m. Texts per topic and month: SELECT toStartOfMonth(at) m, arrayJoin(topics) topic, count() FROM cdp.survey_answers FINAL WHERE kind = \'text\' GROUP BY m, topic.';

CREATE TABLE IF NOT EXISTS `cdp`.`tickets`
(
    `customer_id` String COMMENT 'The customer.',
    `ticket_id` String COMMENT 'The helpdesk\'s ticket id.',
    `opened_at` DateTime64(3, 'UTC') COMMENT 'When it opened.',
    `channel` LowCardinality(String) COMMENT 'phone, email, chat, ...',
    `category` LowCardinality(String) COMMENT 'Ticket category.',
    `priority` LowCardinality(String) COMMENT 'low, normal, high or urgent.',
    `is_complaint` UInt8 COMMENT '1 for a complaint (投诉).',
    `status` LowCardinality(String) COMMENT 'open or resolved.',
    `first_response_at` Nullable(DateTime64(3, 'UTC')) COMMENT 'First response.',
    `resolved_at` Nullable(DateTime64(3, 'UTC')) COMMENT 'Resolution (empty while open).',
    `response_minutes` Nullable(Float64) COMMENT 'Minutes to first response.',
    `resolution_minutes` Nullable(Float64) COMMENT 'Minutes to resolution.',
    `escalations` UInt16 COMMENT 'Times escalated.',
    `reopens` UInt16 COMMENT 'Times reopened.',
    `response_due` DateTime64(3, 'UTC') COMMENT 'When the first response is due.',
    `response_sla` LowCardinality(String) COMMENT 'met, breached or pending.',
    `resolution_due` DateTime64(3, 'UTC') COMMENT 'When resolution is due.',
    `resolution_sla` LowCardinality(String) COMMENT 'met, breached or pending.',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (customer_id, ticket_id)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'One row per service ticket (docs/domain.md §9): SLA state of first response and resolution, escalations, response and resolution minutes. Overall figures: aggregate this table, e.g. countIf(response_sla = \'breached\') / count(). Read with FINAL: older versions and customers merged into another are dropped.';

CREATE TABLE IF NOT EXISTS `cdp`.`customer_service`
(
    `customer_id` String COMMENT 'The customer.',
    `tickets` UInt32 COMMENT 'Tickets opened.',
    `complaints` UInt32 COMMENT 'Of which complaints.',
    `open_tickets` UInt32 COMMENT 'Tickets not resolved.',
    `response_breaches` UInt32 COMMENT 'Tickets whose first response was (or is) late.',
    `resolution_breaches` UInt32 COMMENT 'Tickets whose resolution was (or is) late.',
    `escalations` UInt32 COMMENT 'Escalations over all tickets.',
    `avg_response_minutes` Nullable(Float64) COMMENT 'Average minutes to first response.',
    `avg_resolution_minutes` Nullable(Float64) COMMENT 'Average minutes to resolution.',
    `sla_state` LowCardinality(String) COMMENT 'breached if any open ticket is past a due time, else ok (none without tickets).',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY customer_id
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Service per customer: tickets, open, SLA breaches, escalations, average response and resolution times. Read with FINAL: older versions and customers merged into another are dropped.';

CREATE TABLE IF NOT EXISTS `cdp`.`churn_risk`
(
    `customer_id` String COMMENT 'The customer.',
    `score` UInt8 COMMENT '0-100.',
    `level` LowCardinality(String) COMMENT 'low, medium or high.',
    `reasons` Array(String) COMMENT 'Each warning sign present, with its weight, e.g. \'detractor (NPS 3) (+25)\'.',
    `reason_codes` Array(LowCardinality(String)) COMMENT 'Each reason\'s warning sign, e.g. \'detractor\' (projections/causes.py); empty on rows written before codes.',
    `reason_params` Array(String) COMMENT 'Each reason\'s numbers and weight as a JSON object, e.g. \'{"nps":3,"weight":25}\'.',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY customer_id
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Churn early warning (docs/domain.md §11): score 0-100 = sum of the weights of the warning signs present, each listed as a reason. Read with FINAL: older versions and customers merged into another are dropped.';

CREATE TABLE IF NOT EXISTS `cdp`.`customer_loyalty`
(
    `customer_id` String COMMENT 'The customer.',
    `points` Int64 COMMENT 'Points balance: lifetime points minus points redeemed (negative when overdrawn).',
    `points_from_purchases` Int64 COMMENT 'Points earned by purchases.',
    `points_from_referrals` Int64 COMMENT 'Points earned by referrals.',
    `points_refunded` Int64 COMMENT 'Points taken back for refunds.',
    `tier` LowCardinality(String) COMMENT 'Membership tier, e.g. member, silver, gold, platinum.',
    `next_tier` LowCardinality(String) COMMENT 'The next tier up, or empty at the top.',
    `to_next_tier` Float64 COMMENT 'Points (or spend) still needed for it.',
    `lifetime_points` Int64 COMMENT 'Points earned (purchases and referrals, minus refunds), redemptions not subtracted.',
    `points_redeemed` Int64 COMMENT 'Points redeemed (points_redeemed events).',
    `redemptions` UInt32 COMMENT 'Number of redemptions.',
    `overdrawn` UInt8 COMMENT '1 when more points were redeemed than earned: the balance (points) is negative.',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY customer_id
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Loyalty programme (docs/domain.md §10): points from purchases and referrals, minus refunds, minus redemptions; tier by the balance, lifetime points or spend. Read with FINAL: older versions and customers merged into another are dropped.';

