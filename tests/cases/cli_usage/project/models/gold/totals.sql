SELECT count(*) AS cards, sum(n) AS total FROM {{ ref('silver.cards') }}
