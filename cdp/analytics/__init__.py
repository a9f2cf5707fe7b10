"""Marketer analytics on the warehouse, one module per analysis; each returns plain rows."""
