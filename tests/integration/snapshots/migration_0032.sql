CREATE TABLE IF NOT EXISTS `cdp`.`product_pairs`
(
    `product` String COMMENT 'A product id.',
    `other` String COMMENT 'A product touched (bought or viewed) by some customer who touched product; product itself included.',
    `together` UInt64 COMMENT 'Customers who touched both (other = product: who touched it).',
    `product_reach` UInt64 COMMENT 'Customers who touched product.',
    `other_reach` UInt64 COMMENT 'Customers who touched other.',
    `other_buyers` UInt64 COMMENT 'Customers who bought other.',
    `other_name` String COMMENT 'The name of other as last seen.'
)
ENGINE = MergeTree
ORDER BY (product, other)
COMMENT 'Customers who bought or viewed both of two products, from customer_products with merges followed; recomputed by the refreshable view product_pairs_refresh every 1 min, so up to that old. One row per ordered pair; a product with itself gives its reach. What recommendations score against.';

CREATE MATERIALIZED VIEW IF NOT EXISTS `cdp`.`product_pairs_refresh` REFRESH EVERY 1 MINUTE TO `cdp`.`product_pairs`
AS WITH t AS MATERIALIZED (SELECT customer_id, product, max(is_purchase) AS bought, argMax(item_name, event_at) AS name, max(event_at) AS at FROM (SELECT if((joinGet('cdp.customer_survivors', 'survivor', e.customer_id) AS _survivor1) = '', e.customer_id, if((joinGet('cdp.customer_survivors', 'survivor', _survivor1) AS _survivor2) = '', _survivor1, if((joinGet('cdp.customer_survivors', 'survivor', _survivor2) AS _survivor3) = '', _survivor2, if((joinGet('cdp.customer_survivors', 'survivor', _survivor3) AS _survivor4) = '', _survivor3, if((joinGet('cdp.customer_survivors', 'survivor', _survivor4) AS _survivor5) = '', _survivor4, if((joinGet('cdp.customer_survivors', 'survivor', _survivor5) AS _survivor6) = '', _survivor5, if((joinGet('cdp.customer_survivors', 'survivor', _survivor6) AS _survivor7) = '', _survivor6, if((joinGet('cdp.customer_survivors', 'survivor', _survivor7) AS _survivor8) = '', _survivor7, _survivor8)))))))) AS customer_id, product, is_purchase, item_name, event_at FROM (SELECT customer_id, product, bought AS is_purchase, name AS item_name, at AS event_at FROM `cdp`.`customer_products` WHERE product != '') AS e) GROUP BY customer_id, product) SELECT g.product AS product, g.other AS other, g.together AS together, rq.n AS product_reach, rp.n AS other_reach, rp.buyers AS other_buyers, rp.name AS other_name FROM (SELECT a.product AS product, b.product AS other, count() AS together FROM t AS a INNER JOIN t AS b ON a.customer_id = b.customer_id GROUP BY product, other) AS g INNER JOIN (SELECT product, count() AS n, countIf(bought) AS buyers, argMax(name, at) AS name FROM t GROUP BY product) AS rq ON rq.product = g.product INNER JOIN (SELECT product, count() AS n, countIf(bought) AS buyers, argMax(name, at) AS name FROM t GROUP BY product) AS rp ON rp.product = g.other SETTINGS enable_materialized_cte = 1;

