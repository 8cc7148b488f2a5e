-- The orders as the first run published them.
SELECT count(*) AS orders FROM silver.orders AT (VERSION => 1)
