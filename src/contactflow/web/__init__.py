"""The results browser: a read-only local web app over the store (``contactflow serve``).

DESIGN (why this stack)
-----------------------
* **FastAPI + Jinja2, pages rendered on the server.** Every page is one GET that runs one parsed query
  (the ``--where`` language of :mod:`contactflow.store.queries`, sort keys from a whitelist, skip/limit)
  and renders HTML: filtering, sorting and pagination happen in the database, a bad filter is an
  in-page message (HTTP 400), and the page's cost is the query's cost plus a template (measured in
  ``benchmarks/bench_web.py``). FastAPI/Starlette/uvicorn are the Python web's mainstream and small;
  Dash + crystal-toolkit was the other candidate, but it brings React, plotly.js and a second app
  model (callbacks) for pages that are tables and figures, and its structure scene needs WebGL.
* **Figures are SVG from matplotlib** (already a dependency; the same figures as the report), inline
  in the page: no JS plotting library, nothing fetched.
* **Structure viewer: a small Canvas-2D ball-and-stick renderer shipped in this package**
  (``static/viewer.js``: drag to rotate, wheel to zoom, cell box, depth-sorted atoms and bonds).
  Checked alternatives: py3Dmol's wheel carries no JavaScript (it loads 3Dmol.js from a CDN), and the
  WebGL viewers (3Dmol, NGL, crystal-toolkit's three.js scene) draw nothing in a GPU-less headless
  browser without a software GL fallback. Canvas 2D works offline, everywhere, and is testable by
  reading its pixels.
* **Read-only and local by default.** Only GET routes exist; the app binds to 127.0.0.1 and checks
  the Host header (DNS rebinding); binding elsewhere makes :func:`create_app` require a token
  (query ``?token=``, then a cookie, or ``Authorization: Bearer``) that ``serve`` prints once; any
  request without it gets 403.
"""

from contactflow.web.app import create_app

__all__ = ["create_app"]
