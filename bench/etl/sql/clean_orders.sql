-- The DuckDB floor: clean_orders written by hand as one statement, the least work DuckDB can do
-- for what the Sluice job does (rename, cast, filter, fill_null, dedupe keep last, sha256 mask).
COPY (
  SELECT order_id,
         CASE WHEN customer_email IS NULL THEN NULL
              ELSE sha256('{{SALT}}' || customer_email) END AS customer_email,
         country, product, quantity, amount, order_date, updated_at
  FROM (
    SELECT CAST(OrderID AS BIGINT) AS order_id,
           customer_email,
           coalesce(country, 'unknown') AS country,
           product,
           CAST(quantity AS INTEGER) AS quantity,
           CAST(amount AS DECIMAL(12, 2)) AS amount,
           CAST(order_date AS DATE) AS order_date,
           CAST(updated_at AS TIMESTAMP) AS updated_at
    FROM read_csv('{{CSV}}', header = true)
  )
  WHERE amount >= 0
  QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY updated_at DESC NULLS LAST) = 1
) TO '{{OUT}}' (FORMAT parquet);
