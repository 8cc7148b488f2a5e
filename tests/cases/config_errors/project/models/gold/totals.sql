SELECT count(*) AS n
FROM {{ ref('silver.order') }}
