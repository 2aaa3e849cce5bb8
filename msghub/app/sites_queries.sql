-- Sites and pinned connections (schema/85_sites.sql): what the supervisor
-- and `msghub site` ask.

-- name: pinned_elsewhere
-- connections this node must not take: pinned to another node or to a site it is not at
SELECT id FROM hub.connections
WHERE (pinned_node IS NOT NULL AND pinned_node <> %(node)s)
   OR (pinned_site IS NOT NULL AND pinned_site IS DISTINCT FROM %(site)s)

-- name: pin_connection
UPDATE hub.connections SET pinned_site = %(site)s, pinned_node = %(node)s, updated_at = now()
WHERE name = %(name)s
RETURNING id

-- name: placements
SELECT p.name, p.enabled, p.runs_on, coalesce(p.node, '') AS node, p.eligible_nodes,
       coalesce(p.no_node_reason, '') AS no_node_reason
FROM hub.connection_placement p
ORDER BY p.name

-- name: nodes_by_site
SELECT name, coalesce(site, '') AS site, host, roles, heartbeat_at,
       heartbeat_at > now() - interval '30 seconds' AS live
FROM hub.nodes
ORDER BY site NULLS FIRST, name
