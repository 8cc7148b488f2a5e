SELECT x FROM {{ ref("gold.a") }}
