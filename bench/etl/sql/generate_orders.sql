-- The benchmark's orders: {{ROWS}} rows shaped like the retail example's daily exports
-- (src/examples/retail.cc), as one CSV. Deterministic: every value derives from the row number.
--   * about 2% of the countries are empty (NULL once read),
--   * about 0.5% of the amounts are negative (test orders, dropped by the filter),
--   * every 100th row re-sends an order from 50 rows earlier, corrected (90% of its absolute
--     amount) with a later updated_at (23:59 of its day): 1% duplicate OrderIDs.
-- Unlike the example there are no malformed lines and no 'N/A' amounts, so every engine parses
-- every line and they all do the same work.
SET preserve_insertion_order = true;
COPY (
  WITH rows AS (
    SELECT i, i % 100 = 99 AS correction, CASE WHEN i % 100 = 99 THEN i - 50 ELSE i END AS base
    FROM range({{ROWS}}) t(i)
  ),
  orders AS (
    SELECT i, correction, base,
           CAST(hash(base) >> 1 AS BIGINT) AS h1, CAST(hash(base + 1000000000) >> 1 AS BIGINT) AS h2,
           CAST(hash(base + 2000000000) >> 1 AS BIGINT) AS h3,
           DATE '2026-01-01' + CAST(base * 30 // {{ROWS}} AS INTEGER) AS day
    FROM rows
  ),
  shaped AS (
    SELECT i, correction, day,
           100000 + base AS order_id,
           'customer' || (h1 % 50000) || '@' || ['example.com', 'mail.test', 'shop.example'][1 + (h1 // 50000) % 3] AS email,
           CASE WHEN h2 % 50 = 0 THEN NULL
                ELSE ['DE', 'FR', 'NL', 'ES', 'IT', 'PL', 'SE'][1 + (h2 // 50) % 7] END AS country,
           ['kettle', 'toaster', 'blender', 'mixer', 'grinder', 'juicer', 'scale', 'lamp', 'fan', 'heater'][1 + (h2 // 1000) % 10] AS product,
           CAST(1 + (h3 % 5) AS INTEGER) AS quantity,
           (500 + (h3 // 5) % 50000) / 100.0 * (1 + (h3 % 5)) AS gross,
           (h3 // 1000000000) % 200 = 0 AS negative,
           CAST((h1 // 1000000) % 23 AS INTEGER) AS hour, CAST((h2 // 1000000) % 60 AS INTEGER) AS minute
    FROM orders
  )
  SELECT order_id AS OrderID,
         email AS customer_email,
         country,
         product,
         quantity,
         CAST(CASE WHEN correction THEN gross * 0.9 WHEN negative THEN -gross ELSE gross END AS DECIMAL(12, 2)) AS amount,
         day AS order_date,
         strftime(CASE WHEN correction THEN day + INTERVAL 23 HOUR + INTERVAL 59 MINUTE
                       ELSE day + to_hours(hour) + to_minutes(minute) END, '%Y-%m-%d %H:%M:%S') AS updated_at
  FROM shaped
  ORDER BY i
) TO '{{OUT}}' (FORMAT csv, HEADER true);
SELECT count(*) FROM read_csv('{{OUT}}', header = true);
