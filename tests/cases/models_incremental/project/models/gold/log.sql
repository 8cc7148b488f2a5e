SELECT id, status, updated_at FROM {{ ref('silver.events') }}
{{ if incremental }} WHERE updated_at > (SELECT max(updated_at) FROM {{ this }}) {{ end }}
