CREATE TABLE IF NOT EXISTS `cdp`.`customer_consent`
(
    `customer_id` String COMMENT 'The customer.',
    `purpose` LowCardinality(String) COMMENT 'email_marketing, sms_marketing, phone_marketing, personalisation, analytics or third_party_sharing.',
    `granted` UInt8 COMMENT '1 when the latest decision gave consent, 0 when it withdrew it (an expired consent keeps 1; see expires_at).',
    `decided_at` DateTime64(3, 'UTC') COMMENT 'When the decision was made (event time).',
    `cause` LowCardinality(String) COMMENT 'The deciding event type: consent_given, consent_withdrawn or consent_preferences_updated.',
    `position` UInt64 COMMENT 'Event-log position of the deciding event.',
    `source_kind` LowCardinality(String) COMMENT 'Source kind that captured it: website, social, sales, service or survey.',
    `source_name` LowCardinality(String) COMMENT 'Configured source that captured it.',
    `channel` LowCardinality(String) COMMENT 'Where it was captured (signup_form, cookie_banner, call_centre, ...), empty if not given.',
    `legal_basis` LowCardinality(String) COMMENT 'GDPR Art. 6 basis given with a consent (consent, contract, legitimate_interests, ...); empty for a withdrawal.',
    `wording_version` String COMMENT 'Version of the consent text shown, empty if not given.',
    `expires_at` Nullable(DateTime64(3, 'UTC')) COMMENT 'When the consent lapses unless renewed; empty if it does not.',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (customer_id, purpose)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'The latest consent decision per customer and purpose (docs/domain.md §13): the latest by event time wins, also across merged customers. A purpose without a row follows the configured default ([consent] defaults). For consent at a past time, or at an event\'s time, join consent_changes. Read with FINAL: older versions and customers merged into another are dropped.';

CREATE TABLE IF NOT EXISTS `cdp`.`consent_changes`
(
    `customer_id` String COMMENT 'The customer.',
    `purpose` LowCardinality(String) COMMENT 'email_marketing, sms_marketing, phone_marketing, personalisation, analytics or third_party_sharing.',
    `valid_from` DateTime64(3, 'UTC') COMMENT 'Start of the interval (inclusive): the decision\'s event time, or when a consent expired.',
    `valid_to` DateTime64(3, 'UTC') COMMENT 'End of the interval (exclusive): the next decision\'s event time, the expiry, or 2100-01-01 while in force.',
    `granted` UInt8 COMMENT '1 when consent was in force during the interval.',
    `cause` LowCardinality(String) COMMENT 'consent_given, consent_withdrawn, consent_preferences_updated, or expired.',
    `position` UInt64 COMMENT 'Event-log position of the deciding event (for an expired interval, of the consent that expired).',
    `source_kind` LowCardinality(String) COMMENT 'Source kind that captured the decision.',
    `source_name` LowCardinality(String) COMMENT 'Configured source that captured the decision.',
    `channel` LowCardinality(String) COMMENT 'Where it was captured, empty if not given.',
    `legal_basis` LowCardinality(String) COMMENT 'Legal basis given with a consent; empty for a withdrawal.',
    `wording_version` String COMMENT 'Version of the consent text shown, empty if not given.',
    `version` UInt64 COMMENT 'Event-log position at which this was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when the interval was retracted.'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (customer_id, purpose, valid_from, position)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Consent history (docs/domain.md §13): one row per interval [valid_from, valid_to) in which a customer\'s consent to a purpose stood unchanged, so any event joins the consent in force at its time: e.occurred_at >= valid_from AND e.occurred_at < valid_to. The last interval is open (valid_to = 2100-01-01). Outside every interval the configured default applies. Read with FINAL: an interval later reshaped (a late event, a merge) is retracted or rewritten.';

CREATE TABLE IF NOT EXISTS `cdp`.`suppressions`
(
    `customer_id` String COMMENT 'The customer.',
    `identifier` String COMMENT 'type:value: email:..., phone:... or user_id:...',
    `purpose` LowCardinality(String) COMMENT 'The purpose suppressed, or all.',
    `suppressed` UInt8 COMMENT '1 while suppressed, 0 once lifted.',
    `since` DateTime64(3, 'UTC') COMMENT 'When it was suppressed or lifted (event time).',
    `reason` LowCardinality(String) COMMENT 'unsubscribe, bounce, complaint or operator.',
    `source_name` LowCardinality(String) COMMENT 'Configured source that reported it (operator for cdp suppress).',
    `note` String COMMENT 'Free text given with it, e.g. the operator\'s ticket.',
    `position` UInt64 COMMENT 'Event-log position of the deciding event.',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (customer_id, identifier, purpose)
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'The suppression list (docs/domain.md §13): per identifier and purpose (or all), the latest suppress or unsuppress by event time, from unsubscribes, bounces, complaints and operators (cdp suppress). A customer holding a suppressed identifier is left out of exports for that purpose whatever their consent. Personal data (identifier values). Read with FINAL: older versions and customers merged into another are dropped.';

CREATE VIEW IF NOT EXISTS `cdp`.`customer_consent_current`
AS SELECT `customer_id`, `purpose`, `granted`, `decided_at`, `cause`, `position`, `source_kind`, `source_name`, `channel`, `legal_basis`, `wording_version`, `expires_at`
FROM `cdp`.`customer_consent` FINAL
COMMENT 'Current rows of customer_consent: FINAL applied, retracted rows and bookkeeping columns dropped. The latest consent decision per customer and purpose (docs/domain.md §13): the latest by event time wins, also across merged customers. A purpose without a row follows the configured default ([consent] defaults). For consent at a past time, or at an event\'s time, join consent_changes.';

CREATE VIEW IF NOT EXISTS `cdp`.`consent_changes_current`
AS SELECT `customer_id`, `purpose`, `valid_from`, `valid_to`, `granted`, `cause`, `position`, `source_kind`, `source_name`, `channel`, `legal_basis`, `wording_version`
FROM `cdp`.`consent_changes` FINAL
COMMENT 'Current rows of consent_changes: FINAL applied, retracted rows and bookkeeping columns dropped. Consent history (docs/domain.md §13): one row per interval [valid_from, valid_to) in which a customer\'s consent to a purpose stood unchanged, so any event joins the consent in force at its time: e.occurred_at >= valid_from AND e.occurred_at < valid_to. The last interval is open (valid_to = 2100-01-01). Outside every interval the configured default applies.';

CREATE VIEW IF NOT EXISTS `cdp`.`suppressions_current`
AS SELECT `customer_id`, `identifier`, `purpose`, `suppressed`, `since`, `reason`, `source_name`, `note`, `position`
FROM `cdp`.`suppressions` FINAL
COMMENT 'Current rows of suppressions: FINAL applied, retracted rows and bookkeeping columns dropped. The suppression list (docs/domain.md §13): per identifier and purpose (or all), the latest suppress or unsuppress by event time, from unsubscribes, bounces, complaints and operators (cdp suppress). A customer holding a suppressed identifier is left out of exports for that purpose whatever their consent. Personal data (identifier values).';

