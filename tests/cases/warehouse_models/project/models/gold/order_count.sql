SELECT count(*) AS orders FROM {{ ref('silver.orders') }}
