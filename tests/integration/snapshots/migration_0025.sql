CREATE TABLE IF NOT EXISTS `cdp`.`customer_predictions`
(
    `customer_id` String COMMENT 'The customer.',
    `model_version` String COMMENT 'The fitted model (value_models.model_version) these numbers come from.',
    `as_of` DateTime64(3, 'UTC') COMMENT 'Purchases up to this time were the inputs; the horizon starts here.',
    `frequency` UInt32 COMMENT 'Input: repeat purchases (distinct purchase days after the first).',
    `recency_days` UInt32 COMMENT 'Input: days from the first to the last purchase day.',
    `age_days` UInt32 COMMENT 'Input: days from the first purchase day to the as-of day.',
    `average_order` Float64 COMMENT 'Input: mean amount per repeat purchase day (0 without repeat purchases).',
    `horizon_days` UInt32 COMMENT 'The horizon the expectations below cover.',
    `p_alive` Float64 COMMENT 'Probability the customer is still buying (has not silently churned), 0-1.',
    `expected_purchases` Float64 COMMENT 'Expected purchases within the horizon.',
    `expected_revenue` Float64 COMMENT 'Expected revenue within the horizon (expected purchases × expected amount per purchase).',
    `predicted_clv` Float64 COMMENT 'Expected margin within the horizon, discounted monthly (value.predictions settings, value.clv_gross_margin).',
    `version` UInt64 COMMENT 'Event-log position at which this row was computed; the highest wins.',
    `is_deleted` UInt8 COMMENT '1 when retracted (the customer was merged into another).'
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY customer_id
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Predicted value (README "Predictions"): BG/NBD purchase counts and P(alive), Gamma-Gamma spend, discounted CLV, each with the inputs it came from and the model version (value_models). Computed in batch by `cdp value fit`; customers with at least one purchase by the model\'s as-of time. Read with FINAL: older versions and customers merged into another are dropped.';

CREATE TABLE IF NOT EXISTS `cdp`.`value_models`
(
    `model_version` String COMMENT 'Hash of as_of, parameters and settings.',
    `as_of` DateTime64(3, 'UTC') COMMENT 'Purchases up to this time were fitted.',
    `purchase_model` LowCardinality(String) COMMENT 'bgnbd (BG/NBD) or mbgnbd (MBG/NBD): the purchase-count model r, alpha, a, b belong to.',
    `customers` UInt64 COMMENT 'Customers with a purchase (BG/NBD\'s data).',
    `repeat_customers` UInt64 COMMENT 'Customers with a repeat purchase (Gamma-Gamma\'s data).',
    `r` Float64 COMMENT 'BG/NBD: shape of the purchase-rate Gamma.',
    `alpha` Float64 COMMENT 'BG/NBD: scale of the purchase-rate Gamma (days).',
    `a` Float64 COMMENT 'BG/NBD: dropout Beta a.',
    `b` Float64 COMMENT 'BG/NBD: dropout Beta b.',
    `p` Float64 COMMENT 'Gamma-Gamma: shape of a purchase amount.',
    `q` Float64 COMMENT 'Gamma-Gamma: shape of the customers\' spend scale.',
    `gamma` Float64 COMMENT 'Gamma-Gamma: scale of the customers\' spend scale.',
    `horizon_days` UInt32 COMMENT 'Horizon of the stored predictions.',
    `annual_discount_rate` Float64 COMMENT 'Discount rate of the predicted CLV.',
    `gross_margin` Float64 COMMENT 'Margin of the predicted CLV.'
)
ENGINE = ReplacingMergeTree
ORDER BY model_version
SETTINGS non_replicated_deduplication_window = 1000
COMMENT 'Fitted predictive value models (README "Predictions"): BG/NBD or MBG/NBD (r, alpha, a, b; time in days) and Gamma-Gamma (p, q, gamma), the as-of time of their inputs and the settings the predictions used.';

CREATE VIEW IF NOT EXISTS `cdp`.`customer_predictions_current`
AS SELECT `customer_id`, `model_version`, `as_of`, `frequency`, `recency_days`, `age_days`, `average_order`, `horizon_days`, `p_alive`, `expected_purchases`, `expected_revenue`, `predicted_clv`
FROM `cdp`.`customer_predictions` FINAL
COMMENT 'Current rows of customer_predictions: FINAL applied, retracted rows and bookkeeping columns dropped. Predicted value (README "Predictions"): BG/NBD purchase counts and P(alive), Gamma-Gamma spend, discounted CLV, each with the inputs it came from and the model version (value_models). Computed in batch by `cdp value fit`; customers with at least one purchase by the model\'s as-of time.';

