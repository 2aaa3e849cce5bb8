-- Sites: a node belongs to a named site (MSGHUB_NODE_SITE: a server room,
-- a branch office, the machine a modem is plugged into), and a connection
-- may be pinned to a site or to one node. Only those nodes take it
-- (msghub/app/supervisor.py asks hub.connection_placement); a pinned
-- connection whose nodes are all gone waits, shown as "no node" with the
-- reason, and is never taken over by a node that lacks its device.

ALTER TABLE hub.nodes ADD COLUMN site text;

ALTER TABLE hub.connections ADD COLUMN pinned_site text;
ALTER TABLE hub.connections ADD COLUMN pinned_node text;
ALTER TABLE hub.connections ADD CONSTRAINT connections_pinned_once
    CHECK (pinned_site IS NULL OR pinned_node IS NULL);

-- Where each connection may run and whether a live node can run it: a node
-- is live while its heartbeat (every 5 s) is younger than 30 s, the age
-- after which hub.recover_stuck_v1 takes its claims back.
CREATE VIEW hub.connection_placement AS
SELECT c.id, c.name, c.enabled, c.node, c.pinned_site, c.pinned_node,
       CASE WHEN c.pinned_node IS NOT NULL THEN 'node ' || c.pinned_node
            WHEN c.pinned_site IS NOT NULL THEN 'site ' || c.pinned_site
            ELSE 'any node' END AS runs_on,
       live.nodes AS eligible_nodes,
       CASE WHEN c.pinned_node IS NULL AND c.pinned_site IS NULL THEN NULL
            WHEN cardinality(live.nodes) > 0 THEN NULL
            WHEN c.pinned_node IS NOT NULL THEN 'pinned to node ' || c.pinned_node || ', which is not running'
            ELSE 'pinned to site ' || c.pinned_site || ', where no node is running' END AS no_node_reason
FROM hub.connections c
CROSS JOIN LATERAL (
    SELECT coalesce(array_agg(n.name ORDER BY n.name), '{}') AS nodes
    FROM hub.nodes n
    WHERE n.heartbeat_at > now() - interval '30 seconds'
      AND (c.pinned_node IS NULL OR n.name = c.pinned_node)
      AND (c.pinned_site IS NULL OR n.site = c.pinned_site)
) live;

GRANT SELECT ON hub.connection_placement TO msghub_app;
