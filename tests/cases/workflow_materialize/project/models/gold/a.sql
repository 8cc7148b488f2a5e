-- Revenue per shop.
SELECT shop, sum(amount) AS revenue, count(*) AS orders
FROM {{ ref('silver.x') }}
GROUP BY shop
