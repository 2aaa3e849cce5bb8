"""Contacts import and export: CSV and vCard, parsed and written without a database."""
