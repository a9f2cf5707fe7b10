"""The HTTP collector: a Segment-compatible tracking API and connector webhooks (ASGI, FastAPI)."""
