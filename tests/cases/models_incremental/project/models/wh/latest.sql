-- The same in the warehouse, in SQL both engines accept.
SELECT DISTINCT ON (id) id, status, amount, updated_at
FROM {{ ref('silver.events') }}
{{ if incremental }}
WHERE updated_at > (SELECT max(updated_at) FROM {{ this }})
{{ end }}
ORDER BY id, updated_at DESC
