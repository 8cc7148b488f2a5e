-- Orders per shop, as the failed run defined it.
SELECT shop, count(*) AS orders, 'as failed' AS definition
FROM {{ ref('bronze.sales') }}
GROUP BY shop
