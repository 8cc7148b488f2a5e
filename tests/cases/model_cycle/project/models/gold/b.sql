-- b reads a, which reads b.
SELECT * FROM {{ ref('gold.a') }}
