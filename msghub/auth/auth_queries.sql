-- Queries of external logins (PAM, LDAP): msghub/hub/external_auth.py.

-- name: external_user_by_name
SELECT id, username, display_name, email, role, auth_source, enabled,
       coalesce(locked_until > now(), false) AS locked
FROM hub.users WHERE username = %(username)s

-- name: insert_external_user
-- DO NOTHING: a concurrent first login of the same user wins, the caller re-reads
INSERT INTO hub.users (username, display_name, email, role, password_hash, auth_source)
VALUES (%(username)s, coalesce(%(display_name)s, ''), %(email)s, %(role)s, NULL, %(auth_source)s)
ON CONFLICT (username) DO NOTHING
RETURNING id

-- name: update_external_user
-- only rows of the same source: an external login never takes over a local account
UPDATE hub.users
SET role = %(role)s,
    display_name = coalesce(%(display_name)s, display_name),
    email = coalesce(%(email)s, email),
    password_hash = NULL
WHERE id = %(id)s AND auth_source = %(auth_source)s

-- name: ensure_groups
INSERT INTO hub.groups (name, description)
SELECT name, 'follows a directory group' FROM unnest(%(names)s::text[]) AS name
ON CONFLICT (name) DO NOTHING

-- name: user_group_names
SELECT g.name FROM hub.memberships m JOIN hub.groups g ON g.id = m.group_id
WHERE m.user_id = %(user_id)s ORDER BY g.name

-- name: add_memberships
INSERT INTO hub.memberships (user_id, group_id)
SELECT %(user_id)s, g.id FROM hub.groups g WHERE g.name = ANY(%(names)s::text[])
ON CONFLICT DO NOTHING

-- name: remove_memberships
DELETE FROM hub.memberships m USING hub.groups g
WHERE m.group_id = g.id AND m.user_id = %(user_id)s AND g.name = ANY(%(names)s::text[])
