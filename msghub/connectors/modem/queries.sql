-- Queries of modem detection (msghub modem scan, modem_autodetect).

-- name: modem_connections
-- What is configured already, to tell a new device from a known one.
SELECT name, config, meta FROM hub.connections WHERE kind = 'modem' ORDER BY name

-- name: modem_autodetect_setting
SELECT value FROM hub.settings WHERE key = 'modem_autodetect'

-- name: modem_scan_globs_setting
SELECT value FROM hub.settings WHERE key = 'modem_scan_globs'
