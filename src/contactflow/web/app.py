"""The FastAPI application: GET routes only (the store is never written from here)."""

import json
import secrets
import time
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from contactflow.errors import ContactflowError
from contactflow.store.queries import QueryError
from contactflow.web import views

HERE = Path(__file__).parent
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "contactflow_token"
CZM_FORMATS = {"json": ("application/json", "json"), "abaqus": ("text/plain", "inp"), "moose": ("text/plain", "i")}


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "—" if v is None else str(v)


def create_app(store=None, token: str | None = None, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The results browser over ``store`` (default: :func:`contactflow.store.open_store`, opened once).

    Parameters
    ----------
    token
        When given, every request must carry it (``?token=``, the cookie set after that, or
        ``Authorization: Bearer``); others get 403. ``serve`` sets one for any non-local bind.
    allowed_hosts
        Host headers accepted (default: localhost names, against DNS rebinding); ``["*"]`` for any.
    """
    app = FastAPI(title="contactflow results", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["fmt"] = _fmt
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    state = {"store": store}
    hosts = set(allowed_hosts or LOCAL_HOSTS)

    def get_store():
        if state["store"] is None:
            from contactflow.store import open_store

            state["store"] = open_store()
        return state["store"]

    app.state.get_store = get_store

    @app.middleware("http")
    async def guard(request: Request, call_next):
        t0 = time.perf_counter()
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
        if "*" not in hosts and host not in hosts:
            return PlainTextResponse(f"host {host!r} not allowed", status_code=403)
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("read-only: only GET requests", status_code=405)
        set_cookie = False
        if token:
            given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE) or \
                request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not given or not secrets.compare_digest(given, token):
                return PlainTextResponse("403: this server needs the token it printed at start", status_code=403)
            set_cookie = request.query_params.get("token") == token
        response = await call_next(request)
        if set_cookie:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - t0) * 1e3:.2f}"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        return response

    def page(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"nav": name.split(".")[0], **ctx}, status_code=status)

    @app.get("/", include_in_schema=False)
    def index():
        return RedirectResponse("/interfaces")

    @app.get("/interfaces", response_class=HTMLResponse)
    def interfaces(request: Request, where: str = "", sort: str = "", order: str = "asc",
                   page_: int = Query(1, alias="page"), per_page: int = 50):
        ctx = {"where": where, "sort": sort, "order": "desc" if order == "desc" else "asc", "error": None,
               "fields": views.fields_help(), "columns": views.interface_columns(), "per_page": per_page}
        try:
            ctx.update(views.interfaces_page(get_store(), where, sort, ctx["order"], max(1, page_), per_page))
        except QueryError as exc:
            ctx.update(error=str(exc), rows=[], total=0, page=1, pages=1)
            return page(request, "interfaces.html", status=400, **ctx)
        return page(request, "interfaces.html", **ctx)

    @app.get("/interfaces/{interface_id}", response_class=HTMLResponse)
    def interface(request: Request, interface_id: str):
        try:
            detail = views.interface_detail(get_store(), interface_id)
        except QueryError as exc:
            return page(request, "error.html", status=400, error=str(exc))
        if detail is None:
            return page(request, "error.html", status=404, error=f"no interface {interface_id!r} in the store")
        iface, results = detail["interface"], detail["results"]
        prepared = results.get("prepared", [])
        geoms = [{"id": "as-built", "title": "as built", "data": views.viewer_data(iface.get("structure"))}]
        for d in prepared:
            for key, what in (("structure", "prepared"), ("relaxed_structure", "relaxed")):
                data = views.viewer_data(d.get(key))
                if data:
                    geoms.append({"id": f"{what}-{d['doc_key'][:8]}", "title": f"{what} ({d.get('engine')})",
                                  "data": data})
        geoms = [g for g in geoms if g["data"]]
        figures = {
            "energy_gap": views.energy_gap_figure(prepared, results.get("traction_separation", [])),
            "barriers": views.barrier_figure(results.get("barriers", [])),
        }
        skip = ("interface_id", "structure", "relaxed_structure", "recipe_name", "system", "prepared_key")
        tables = {kind: [views.scalar_fields(d, skip) for d in docs] for kind, docs in results.items()}
        return page(request, "interface.html", iface=iface, geoms=geoms,
                    geoms_json=json.dumps({g["id"]: g["data"] for g in geoms}).replace("</", "<\\/"),
                    figures=figures, tables=tables, results=results,
                    iface_fields=views.scalar_fields(iface, ("structure",)))

    @app.get("/engines", response_class=HTMLResponse)
    def engines(request: Request):
        return page(request, "engines.html", comparisons=views.engines_compared(get_store()),
                    engines=views.engine_rows())

    @app.get("/queue", response_class=HTMLResponse)
    def queue(request: Request):
        rows, error = views.queue_rows(get_store())
        return page(request, "queue.html", rows=rows, error=error)

    @app.get("/downloads", response_class=HTMLResponse)
    def downloads(request: Request):
        store = get_store()
        return page(request, "downloads.html", czm=views.recipes_with(store, "traction-separation"),
                    diffusion=views.recipes_with(store, "md"), reports=views.recipes_with(store, "interfaces"),
                    formats=list(CZM_FORMATS))

    def _recipe(recipe: str) -> str:
        if not views.SAFE_ID.match(recipe):
            raise QueryError(f"{recipe!r} is not a recipe name")
        return recipe

    @app.get("/download/czm/{recipe}/{fmt}")
    def download_czm(recipe: str, fmt: str):
        from contactflow.continuum.czm import export_czm, load_laws

        if fmt not in CZM_FORMATS:
            return PlainTextResponse(f"unknown format {fmt!r}; valid: {', '.join(CZM_FORMATS)}", status_code=400)
        try:
            text = export_czm(load_laws(get_store(), _recipe(recipe)), fmt)
        except ContactflowError as exc:
            return PlainTextResponse(str(exc), status_code=404)
        mime, ext = CZM_FORMATS[fmt]
        return Response(text, media_type=mime,
                        headers={"Content-Disposition": f'attachment; filename="{recipe}_czm.{ext}"'})

    @app.get("/download/diffusivity/{recipe}")
    def download_diffusivity(recipe: str):
        from contactflow.continuum.diffusivity import export_diffusivity, load_points

        try:
            text = export_diffusivity(load_points(get_store(), recipe=_recipe(recipe)), "csv")
        except ContactflowError as exc:
            return PlainTextResponse(str(exc), status_code=404)
        return Response(text, media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{recipe}_diffusivity.csv"'})

    @app.get("/download/report/{recipe}")
    def download_report(recipe: str):
        from contactflow.continuum.report import build_report

        try:
            html = build_report(get_store(), _recipe(recipe))
        except ContactflowError as exc:
            return PlainTextResponse(str(exc), status_code=404)
        return Response(html, media_type="text/html",
                        headers={"Content-Disposition": f'attachment; filename="{recipe}_report.html"'})

    return app
