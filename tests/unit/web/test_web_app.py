"""The results browser's routes over a real store (embedded server), through FastAPI's test client."""

import re

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from contactflow.web import create_app  # noqa: E402


@pytest.fixture
def seeded(store, web_seed_docs):
    store.upsert_many([*web_seed_docs["interfaces"], *web_seed_docs["traction"]])
    return store


@pytest.fixture
def client(seeded):
    return TestClient(create_app(seeded), base_url="http://127.0.0.1")


def rows(html: str) -> list[str]:
    return re.findall(r'<a href="/interfaces/([^"]+)">', html)


def test_interfaces_page_lists_filters_sorts_and_pages(client, web_seed_docs):
    ifaces = web_seed_docs["interfaces"]
    r = client.get("/interfaces")
    assert r.status_code == 200
    assert sorted(rows(r.text)) == sorted(d.interface_id for d in ifaces)
    assert len(ifaces) >= 2
    where, expected = web_seed_docs["narrow"]
    r = client.get("/interfaces", params={"where": f"{where} and recipe_name == si_graphite"})
    assert r.status_code == 200 and sorted(rows(r.text)) == sorted(expected) and len(expected) < len(ifaces)
    r = client.get("/interfaces", params={"sort": "area_A2", "order": "desc"})
    by_area = [d.interface_id for d in sorted(ifaces, key=lambda d: -d.area_A2)]
    assert rows(r.text) == by_area
    r = client.get("/interfaces", params={"sort": "area_A2", "order": "desc", "per_page": 25, "page": 2})
    assert rows(r.text) == [] and f"{len(ifaces)} interface(s)" in r.text


@pytest.mark.parametrize("where, says", [
    ("bogus > 1", "unknown field"),
    ("strain_pct > lots", "not a number"),
    ("n_atoms >", "missing value"),
    ('{"$where": "sleep(1)"}', "cannot read"),
])
def test_bad_filter_is_an_in_page_message_not_a_server_error(client, where, says):
    r = client.get("/interfaces", params={"where": where})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert 'id="error"' in r.text and says in r.text


def test_sort_key_and_page_size_come_from_a_whitelist(client):
    assert client.get("/interfaces", params={"sort": "structure"}).status_code == 400
    assert client.get("/interfaces", params={"per_page": 100000}).status_code == 400


def test_interface_page_has_structures_plots_and_czm(client, web_seed_docs):
    iid = web_seed_docs["interfaces"][0].interface_id
    r = client.get(f"/interfaces/{iid}")
    assert r.status_code == 200
    assert '<canvas id="viewer"' in r.text and 'id="geoms"' in r.text and "/static/viewer.js" in r.text
    assert 'id="ed-plot"' in r.text and "<svg" in r.text
    assert "lj:test" in r.text and "sigma_max_GPa" in r.text
    assert client.get("/static/viewer.js").status_code == 200
    assert client.get("/interfaces/if-doesnotexist").status_code == 404
    assert client.get("/interfaces/bad id$").status_code == 400


def test_other_pages_and_downloads(client):
    for url in ("/engines", "/queue", "/downloads"):
        assert client.get(url).status_code == 200, url
    r = client.get("/download/czm/si_graphite/abaqus")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert client.get("/download/czm/si_graphite/json").json()
    assert "MOOSE" in client.get("/download/czm/si_graphite/moose").text or client.get(
        "/download/czm/si_graphite/moose").status_code == 200
    assert client.get("/download/czm/si_graphite/xls").status_code == 400
    assert client.get("/download/report/si_graphite").status_code == 200


def test_read_only_local_and_token(seeded):
    app = create_app(seeded)
    assert {m for r in app.routes for m in getattr(r, "methods", set())} <= {"GET", "HEAD"}
    local = TestClient(app, base_url="http://127.0.0.1")
    assert local.post("/interfaces").status_code == 405
    assert TestClient(app, base_url="http://attacker.example").get("/interfaces").status_code == 403
    guarded = TestClient(create_app(seeded, token="s3cret", allowed_hosts=["*"]), base_url="http://10.0.0.5")
    assert guarded.get("/interfaces").status_code == 403
    assert guarded.get("/interfaces", params={"token": "wrong"}).status_code == 403
    assert guarded.get("/interfaces", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert guarded.get("/interfaces", params={"token": "s3cret"}).status_code == 200
    assert guarded.get("/engines").status_code == 200  # the cookie set by the token link
