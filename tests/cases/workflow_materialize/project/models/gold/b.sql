SELECT shop, revenue, rank() OVER (ORDER BY revenue DESC) AS rank
FROM {{ref("gold.a")}}
WHERE orders >= 1;
