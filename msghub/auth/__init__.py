"""Authentication against outside sources: LDAP, PAM, and the glue that
maps their users to hub users (external.py)."""
