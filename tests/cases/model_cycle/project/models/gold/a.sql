SELECT * FROM {{ ref('gold.b') }}
