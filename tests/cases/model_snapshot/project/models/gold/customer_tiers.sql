SELECT id, name, tier FROM {{ ref('silver.customers') }}
