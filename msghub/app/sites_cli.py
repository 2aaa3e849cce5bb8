"""`msghub site`: which nodes are at which site, and connections pinned to
a site or a node (docs/OPERATIONS.md, "Sites")."""

from __future__ import annotations

import argparse
import json
from typing import Any

import psycopg

from msghub.app.clidb import audit, with_db
from msghub.app.queries import SITES_QUERIES
from msghub.errors import HubError
from msghub.hub.config import Config

NAME_MAX = 64


def _name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > NAME_MAX:
        raise argparse.ArgumentTypeError(f"a name of 1 to {NAME_MAX} characters, not {value!r}")
    return value


def add_parsers(sub: Any) -> None:
    site = sub.add_parser("site", help="sites: nodes by site, connections pinned to a site or node").add_subparsers(
        dest="action", required=True)
    s_list = site.add_parser("list", help="nodes by site, and where each connection may run")
    s_list.add_argument("--json", action="store_true")
    s_list.set_defaults(handler=cmd_site_list)
    s_pin = site.add_parser("pin", help="let only the nodes of a site, or one node, take a connection")
    s_pin.add_argument("connection")
    where = s_pin.add_mutually_exclusive_group(required=True)
    where.add_argument("--site", type=_name, help="a site (MSGHUB_NODE_SITE of its nodes)")
    where.add_argument("--node", type=_name, help="one node (its MSGHUB_NODE_NAME)")
    s_pin.set_defaults(handler=cmd_site_pin)
    s_unpin = site.add_parser("unpin", help="let any node take a connection again")
    s_unpin.add_argument("connection")
    s_unpin.set_defaults(handler=cmd_site_pin, site=None, node=None)


def cmd_site_pin(args: argparse.Namespace, config: Config) -> int:
    def pin(conn: psycopg.Connection[Any]) -> None:
        row = conn.execute(SITES_QUERIES["pin_connection"],
                           {"name": args.connection, "site": args.site, "node": args.node}).fetchone()
        if row is None:
            raise HubError(f"no connection named {args.connection!r}")
        audit(conn, "cli", "connection.pin", args.connection, {"site": args.site, "node": args.node})

    with_db(config, pin)
    where = f"site {args.site}" if args.site else f"node {args.node}" if args.node else "any node"
    print(f"connection {args.connection} runs on {where}")
    return 0


def cmd_site_list(args: argparse.Namespace, config: Config) -> int:
    def read(conn: psycopg.Connection[Any]) -> tuple[list[Any], list[Any]]:
        return (conn.execute(SITES_QUERIES["nodes_by_site"]).fetchall(),
                conn.execute(SITES_QUERIES["placements"]).fetchall())

    nodes, placements = with_db(config, read)
    if args.json:
        print(json.dumps({"nodes": nodes, "connections": placements}, default=str, indent=2))
        return 0
    for n in nodes:
        print(f"node {n['name']:<24} site {n['site'] or '-':<16} {'live' if n['live'] else 'gone'}")
    for p in placements:
        held = f"held by {p['node']}" if p["node"] else "not held"
        reason = f"  no node: {p['no_node_reason']}" if p["no_node_reason"] else ""
        print(f"connection {p['name']:<18} runs on {p['runs_on']:<24} {held}{reason}")
    return 0
