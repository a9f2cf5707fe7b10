CREATE TABLE IF NOT EXISTS `cdp`.`events`
(
    `position` UInt64 COMMENT 'Position of the event in the event log (total order).',
    `message_id` String COMMENT 'The sender\'s message id, unique per source.',
    `event_type` LowCardinality(String) COMMENT 'What happened, e.g. page_viewed, order_placed, nps_answered.',
    `source_kind` LowCardinality(String) COMMENT 'website, social, sales, service or survey.',
    `source_name` LowCardinality(String) COMMENT 'The configured source that sent the event.',
    `occurred_at` DateTime64(3, 'UTC') COMMENT 'When it happened (event time).',
    `received_at` DateTime64(3, 'UTC') COMMENT 'When the platform accepted it.',
    `customer_id` String COMMENT 'The customer the event was assigned to when processed; after a later merge, see customer_merges.',
    `anonymous_id` String COMMENT 'Anonymous (device/cookie) id, or empty.',
    `user_id` String COMMENT 'The sender\'s user id, or empty.',
    `email` String COMMENT 'Email address, or empty. Personal data.',
    `phone` String COMMENT 'Phone number, or empty. Personal data.',
    `social` Array(String) COMMENT 'Social handles as platform:handle. Personal data.',
    `account_id` String COMMENT 'Enterprise account (company) id, or empty.',
    `traits` String COMMENT 'Traits sent with the event, as a JSON object. Personal data.',
    `properties` String COMMENT 'The event type\'s properties, as a JSON object (JSONExtract* to read).',
    `context` String COMMENT 'Context (page, campaign, device, ...), as a JSON object. Personal data.'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (event_type, occurred_at, position)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Every accepted touchpoint, one row per event. Read with FINAL for exact counts (a replayed batch may be written twice until merged).';

CREATE TABLE IF NOT EXISTS `cdp`.`profiles`
(
    `customer_id` String COMMENT 'Stable customer id.',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when the customer was merged into another (see merged_into).',
    `merged_into` String COMMENT 'The customer this one was merged into, or empty.',
    `anonymous_ids` Array(String) COMMENT 'Every anonymous id seen.',
    `user_ids` Array(String) COMMENT 'Every user id seen.',
    `emails` Array(String) COMMENT 'Every email seen. Personal data.',
    `phones` Array(String) COMMENT 'Every phone number seen. Personal data.',
    `social_handles` Array(String) COMMENT 'Every social handle seen, as platform:handle. Personal data.',
    `account_ids` Array(String) COMMENT 'Enterprise accounts the customer acted for.',
    `traits` String COMMENT 'Latest value of each trait by event time, as a JSON object. Personal data.',
    `first_seen` DateTime64(3, 'UTC') COMMENT 'Time of the earliest event.',
    `last_seen` DateTime64(3, 'UTC') COMMENT 'Time of the latest event.',
    `channels` Array(LowCardinality(String)) COMMENT 'Source kinds the customer used.',
    `sources` Array(String) COMMENT 'Sources the customer\'s events came from.',
    `events_total` UInt64 COMMENT 'Number of events.',
    `events_website` UInt64 COMMENT 'Number of events from website sources.',
    `events_social` UInt64 COMMENT 'Number of events from social sources.',
    `events_sales` UInt64 COMMENT 'Number of events from sales sources.',
    `events_service` UInt64 COMMENT 'Number of events from service sources.',
    `events_survey` UInt64 COMMENT 'Number of events from survey sources.',
    `orders` UInt32 COMMENT 'Purchases (online orders and in-store purchases).',
    `revenue` Float64 COMMENT 'Sum of purchase amounts, gross of refunds, in the currencies sent.',
    `refunds` Float64 COMMENT 'Sum of refunded amounts.',
    `first_purchase_at` Nullable(DateTime64(3, 'UTC')) COMMENT 'Time of the first purchase.',
    `last_purchase_at` Nullable(DateTime64(3, 'UTC')) COMMENT 'Time of the latest purchase.',
    `last_nps` Nullable(UInt8) COMMENT 'Latest NPS answer (0-10).',
    `lifecycle_stage` LowCardinality(String) COMMENT 'prospect, new, repeat, loyal, at_risk, churned or won_back.',
    `lifecycle_since` DateTime64(3, 'UTC') COMMENT 'When the customer entered the current stage.',
    `lifecycle_cause` String COMMENT 'Why the customer is in the current stage.',
    `as_of` DateTime64(3, 'UTC') COMMENT 'Event time up to which time-driven stages were evaluated.'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY customer_id
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'The unified customer profile, one current row per customer. Read with FINAL (or argMax by version): older versions and customers merged into another are dropped.';

CREATE TABLE IF NOT EXISTS `cdp`.`identities`
(
    `identifier` String COMMENT 'type:value, e.g. email:ann@example.com or social:wechat:ann_w.',
    `id_type` LowCardinality(String) COMMENT 'anonymous_id, user_id, email, phone or social.',
    `customer_id` String COMMENT 'The customer the identifier belongs to.',
    `version` UInt64 COMMENT 'Event-log position of the event that (re)assigned it.'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY identifier
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Identifier → customer, current assignment. Read with FINAL. Personal data (identifier values).';

CREATE TABLE IF NOT EXISTS `cdp`.`customer_merges`
(
    `absorbed` String COMMENT 'The customer that was merged away.',
    `survivor` String COMMENT 'The customer it was merged into (the one created first).',
    `position` UInt64 COMMENT 'Event-log position of the event that linked them.',
    `occurred_at` DateTime64(3, 'UTC') COMMENT 'Event time of that event.',
    `reason` String COMMENT 'Which event linked them, and through which identifier types.',
    `reason_code` LowCardinality(String) COMMENT 'The reason as a code, \'named_both\' (projections/causes.py); empty on rows written before codes.',
    `reason_params` String COMMENT 'The reason\'s event and identifier types as a JSON object, e.g. \'{"event":"shop/m1","id_types":["email"]}\'.'
)
ENGINE = ReplacingMergeTree
ORDER BY (absorbed, position)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'One row per merge of two customers into one: which, when, and why.';

CREATE TABLE IF NOT EXISTS `cdp`.`lifecycle_transitions`
(
    `customer_id` String COMMENT 'The customer.',
    `at` DateTime64(3, 'UTC') COMMENT 'When the stage changed (event time).',
    `from_stage` LowCardinality(String) COMMENT 'Stage before, empty for a customer\'s first stage.',
    `to_stage` LowCardinality(String) COMMENT 'Stage after.',
    `cause` String COMMENT 'Why, e.g. \'first purchase\', \'no purchase for 90 days\', \'detractor (NPS 3)\'.',
    `cause_code` LowCardinality(String) COMMENT 'The cause as a code, e.g. \'first_purchase\', \'no_purchase_for\', \'detractor\' (projections/causes.py); empty on rows written before codes.',
    `cause_params` String COMMENT 'The cause\'s numbers and names as a JSON object, e.g. \'{"nps":3}\'.',
    `version` UInt64 COMMENT 'Event-log position at which this was computed.',
    `is_deleted` UInt8 COMMENT '1 when the transition was retracted.'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (customer_id, at, from_stage, to_stage)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Every lifecycle stage change of every customer, e.g. who moved from repeat to at_risk in October. Read with FINAL: a transition later disproved (a late event, a merge) is retracted.';

