ALTER TABLE `cdp`.`events` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`profiles` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`identities` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`customer_merges` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`lifecycle_transitions` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`identity_refusals` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`customer_traits` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`customer_tags` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`tag_changes` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`customer_value` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`customer_satisfaction` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`survey_answers` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`tickets` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`customer_service` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`churn_risk` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`customer_loyalty` MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE `cdp`.`events` ADD INDEX IF NOT EXISTS customer_id_bloom customer_id TYPE bloom_filter GRANULARITY 4;

ALTER TABLE `cdp`.`events` MATERIALIZE INDEX customer_id_bloom;

