-- An order-independent fingerprint of a cleaned orders table, on canonical types, so that the
-- engines' outputs (Parquet with their own types, or pandas' CSV) can be compared.
SELECT count(*) AS rows,
       sum(CAST(amount AS DECIMAL(18, 2))) AS amount,
       count(*) FILTER (WHERE country = 'unknown') AS unknown_country,
       bit_xor(hash(CAST(order_id AS BIGINT), customer_email, country, product,
                    CAST(quantity AS INTEGER), CAST(amount AS DECIMAL(12, 2)),
                    CAST(order_date AS DATE), CAST(updated_at AS TIMESTAMP))) AS digest
FROM {{TABLE}}
