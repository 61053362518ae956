"""The analyst web UI: server-rendered pages (FastAPI + Jinja2) over the hotline workflow."""
