ALTER TABLE `cdp`.`survey_answers` ADD COLUMN IF NOT EXISTS `topics` Array(LowCardinality(String)) COMMENT 'For texts: what they are about (delivery, price, quality, service, ...; projections/topics.py).' AFTER `terms`;

ALTER TABLE `cdp`.`survey_answers` MODIFY COMMENT 'One row per satisfaction signal: NPS, CSAT, CSI answers and free texts with their sentiment and topics. Overall NPS per month: SELECT toStartOfMonth(at) m, 100 * (countIf(category = \'promoter\') - countIf(category = \'detractor\')) / count() FROM cdp.survey_answers FINAL WHERE kind = \'nps\' GROUP BY m. Texts per topic and month: SELECT toStartOfMonth(at) m, arrayJoin(topics) topic, count() FROM cdp.survey_answers FINAL WHERE kind = \'text\' GROUP BY m, topic.';

DROP VIEW IF EXISTS `cdp`.`survey_answers_current`;

CREATE VIEW IF NOT EXISTS `cdp`.`survey_answers_current`
AS SELECT `position`, `customer_id`, `at`, `kind`, `event_type`, `score`, `category`, `terms`, `topics`
FROM `cdp`.`survey_answers` FINAL
COMMENT 'Current rows of survey_answers: FINAL applied, retracted rows and bookkeeping columns dropped. One row per satisfaction signal: NPS, CSAT, CSI answers and free texts with their sentiment and topics. Overall NPS per month: SELECT toStartOfMonth(at) m, 100 * (countIf(category = \'promoter\') - countIf(category = \'detractor\')) / count() FROM cdp.survey_answers FINAL WHERE kind = \'nps\' GROUP BY m. Texts per topic and month: SELECT toStartOfMonth(at) m, arrayJoin(topics) topic, count() FROM cdp.survey_answers FINAL WHERE kind = \'text\' GROUP BY m, topic.';

