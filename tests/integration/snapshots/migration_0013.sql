ALTER TABLE `cdp`.`profiles` MODIFY SETTING min_age_to_force_merge_seconds = 600;

ALTER TABLE `cdp`.`customer_traits` MODIFY SETTING min_age_to_force_merge_seconds = 600;

ALTER TABLE `cdp`.`customer_tags` MODIFY SETTING min_age_to_force_merge_seconds = 600;

ALTER TABLE `cdp`.`customer_value` MODIFY SETTING min_age_to_force_merge_seconds = 600;

ALTER TABLE `cdp`.`customer_satisfaction` MODIFY SETTING min_age_to_force_merge_seconds = 600;

ALTER TABLE `cdp`.`customer_service` MODIFY SETTING min_age_to_force_merge_seconds = 600;

ALTER TABLE `cdp`.`churn_risk` MODIFY SETTING min_age_to_force_merge_seconds = 600;

ALTER TABLE `cdp`.`customer_loyalty` MODIFY SETTING min_age_to_force_merge_seconds = 600;

