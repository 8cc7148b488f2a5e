-- A warehouse model over another one.
SELECT status, amount FROM {{ ref('wh.status_totals') }} ORDER BY amount DESC LIMIT 1;
