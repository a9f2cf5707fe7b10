ALTER TABLE `cdp`.`events` MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE `cdp`.`events` ADD PROJECTION IF NOT EXISTS by_customer (SELECT * ORDER BY customer_id, position);

ALTER TABLE `cdp`.`events` MATERIALIZE PROJECTION by_customer;

