-- Sorts first by name, but depends on gold.b, so it runs last.
SELECT shop AS top_shop, revenue FROM {{ ref('gold.b') }} WHERE rank = 1
