"""The HTTP edge: FastAPI app factory, JSON API and server-rendered pages."""
