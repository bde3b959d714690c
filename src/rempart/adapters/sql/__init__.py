"""SQL storage of the portal (SQLAlchemy 2, SQLite or PostgreSQL)."""
