-- The latest state of each order: only the changes newer than the table's are read.
SELECT id, status, amount, updated_at
FROM {{ ref('silver.events') }}
{{ if incremental }}
WHERE updated_at > (SELECT max(updated_at) FROM {{ this }})
{{ end }}
QUALIFY row_number() OVER (PARTITION BY id ORDER BY updated_at DESC) = 1
