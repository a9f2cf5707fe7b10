CREATE TABLE IF NOT EXISTS `cdp`.`customer_products_state`
(
    `customer_id` String COMMENT 'The customer the events were assigned to when processed.',
    `product` String COMMENT 'The product id.',
    `bought` AggregateFunction(max, UInt8) COMMENT '1 once the customer bought it.',
    `name` AggregateFunction(argMax, String, DateTime64(3, 'UTC')) COMMENT 'The product\'s name as last seen.',
    `at` AggregateFunction(max, DateTime64(3, 'UTC')) COMMENT 'When the customer last bought or viewed it.'
)
ENGINE = AggregatingMergeTree
ORDER BY (customer_id, product)
COMMENT 'Aggregate states behind the view customer_products; read that view.';

CREATE MATERIALIZED VIEW IF NOT EXISTS `cdp`.`customer_products_mv` TO `cdp`.`customer_products_state`
AS SELECT customer_id AS customer_id, JSONExtractString(arrayJoin(if(event_type IN ('order_placed', 'store_purchase_made'), JSONExtractArrayRaw(properties, 'items'), [properties])), 'product_id') AS product, maxState(toUInt8(event_type IN ('order_placed', 'store_purchase_made'))) AS bought, argMaxState(JSONExtractString(arrayJoin(if(event_type IN ('order_placed', 'store_purchase_made'), JSONExtractArrayRaw(properties, 'items'), [properties])), 'name'), occurred_at) AS name, maxState(occurred_at) AS at
FROM `cdp`.`events`
WHERE event_type IN ('order_placed', 'store_purchase_made', 'product_viewed', 'product_added_to_cart')
GROUP BY customer_id, product;

CREATE VIEW IF NOT EXISTS `cdp`.`customer_products`
AS SELECT customer_id, product, maxMerge(bought) AS bought, argMaxMerge(name) AS name, maxMerge(at) AS at
FROM `cdp`.`customer_products_state`
GROUP BY customer_id, product
COMMENT 'The products each customer bought or viewed (an item of order_placed or store_purchase_made, or product_viewed, product_added_to_cart), kept up to date as events arrive; no FINAL needed. customer_id is the id written on the events: follow customer_merges for customers merged into another. Columns: customer_id, product, bought (1 if bought), name (as last seen), at (last touched).';

INSERT INTO `cdp`.`customer_products_state` SELECT customer_id AS customer_id, JSONExtractString(arrayJoin(if(event_type IN ('order_placed', 'store_purchase_made'), JSONExtractArrayRaw(properties, 'items'), [properties])), 'product_id') AS product, maxState(toUInt8(event_type IN ('order_placed', 'store_purchase_made'))) AS bought, argMaxState(JSONExtractString(arrayJoin(if(event_type IN ('order_placed', 'store_purchase_made'), JSONExtractArrayRaw(properties, 'items'), [properties])), 'name'), occurred_at) AS name, maxState(occurred_at) AS at
FROM `cdp`.`events`
WHERE event_type IN ('order_placed', 'store_purchase_made', 'product_viewed', 'product_added_to_cart')
GROUP BY customer_id, product;

