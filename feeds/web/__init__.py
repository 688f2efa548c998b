"""Web: HTTP in front of publish/. The Flask application (app) with one module per page in
views/, the polling fast path in front of Flask (fastpath), the HTML pages (pages,
searchpage, templates/, static/), allowed hosts and the base of links (hosts) and gunicorn
for `feeds serve` (server).
"""
