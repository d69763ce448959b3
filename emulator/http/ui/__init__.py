"""A dashboard in the browser at ``/_emulator/ui``: jobs, media, requests, faults, endpoints.

Server-rendered (Jinja2), a little plain JavaScript as a static file, no build step and no
fetch from anywhere else. It reads the engine; its forms act through the control plane.
"""

from emulator.http.ui.routes import Dashboard, dashboard

__all__ = ["Dashboard", "dashboard"]
