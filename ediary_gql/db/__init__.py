"""Persistence: typed models, the engine and sessions, migrations."""
