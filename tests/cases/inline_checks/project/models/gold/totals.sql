SELECT customer, sum(amount) AS total, count(*) AS orders
FROM {{ ref('bronze.orders') }}
GROUP BY customer
