-- Runs in the warehouse, over the loaded wh.orders.
SELECT status, count(*) AS orders, sum(amount) AS amount
FROM {{ ref('silver.orders') }}
GROUP BY status
