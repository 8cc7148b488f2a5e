SELECT id, name, tier, updated_at FROM {{ ref('silver.customers') }}
