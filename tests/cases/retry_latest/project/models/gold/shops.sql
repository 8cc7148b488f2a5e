-- Orders per shop; `amount_eur` is not a column of bronze.sales (the source has `amount`).
SELECT shop, count(*) AS orders, sum(amount_eur) AS amount
FROM {{ ref('bronze.sales') }}
GROUP BY shop
