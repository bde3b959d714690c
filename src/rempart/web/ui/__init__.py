"""Server-rendered pages in French: the partner portal, the security console, the citizen page.

Jinja2 templates under ``templates/``, static files under ``static/`` (HTMX vendored from the
npm registry, see ``static/vendor/README``). No inline script anywhere: the CSP allows scripts
from this origin only.
"""
