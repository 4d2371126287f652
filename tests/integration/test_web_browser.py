"""The results browser in a real headless browser: Debian's chromium driven by selenium through Debian's
chromedriver (nothing downloads a browser). The app runs under uvicorn on a free local port over the
test's store; screenshots go to the test's tmp dir."""

import os
import shutil
import socket
import threading
import time
from urllib.parse import quote

import pytest

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (os.path.exists(CHROMIUM) and shutil.which(DRIVER)),
                       reason="Debian chromium + chromium-driver not installed (setup.sh installs them as root)"),
]
selenium = pytest.importorskip("selenium")
uvicorn = pytest.importorskip("uvicorn")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--window-size=1280,1600")


@pytest.fixture
def server(store, web_seed_docs):
    from contactflow.web import create_app

    store.upsert_many([*web_seed_docs["interfaces"], *web_seed_docs["traction"]])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(10)


@pytest.fixture
def browser():
    from selenium import webdriver

    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never fetch a driver or browser
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in FLAGS:
        opts.add_argument(f)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=shutil.which(DRIVER)))
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


def severe(drv) -> list[str]:
    return [e["message"] for e in drv.get_log("browser") if e["level"] == "SEVERE"]


def table_ids(drv) -> list[str]:
    from selenium.webdriver.common.by import By

    return [a.text for a in drv.find_elements(By.CSS_SELECTOR, "#interfaces tbody td a")]


def test_browse_filter_open_interface_and_bad_filter(server, browser, web_seed_docs, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ifaces = web_seed_docs["interfaces"]
    # the interfaces page lists the stored interfaces
    browser.get(f"{server}/interfaces")
    assert sorted(table_ids(browser)) == sorted(d.interface_id for d in ifaces)
    browser.save_screenshot(str(tmp_path / "interfaces.png"))
    assert severe(browser) == []

    # a filter typed into the form narrows the table
    box = browser.find_element(By.ID, "where")
    box.clear()
    where, expected = web_seed_docs["narrow"]
    box.send_keys(where)
    browser.find_element(By.ID, "apply").click()
    WebDriverWait(browser, 20).until(ec.url_contains("where="))
    assert sorted(table_ids(browser)) == sorted(expected) and len(expected) < len(ifaces)
    browser.save_screenshot(str(tmp_path / "interfaces_filtered.png"))
    assert severe(browser) == []

    # one interface: a non-blank structure canvas and the E(d) plot
    browser.find_element(By.CSS_SELECTOR, "#interfaces tbody td a").click()
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "var c = document.getElementById('viewer'); return c && c.dataset.drawn === '1';"))
    painted, total, colours = browser.execute_script("""
        var c = document.getElementById('viewer'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        var n = 0, seen = {};
        for (var i = 0; i < d.length; i += 4) {
          if (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235) n++;
          seen[(d[i] >> 4) + ',' + (d[i + 1] >> 4) + ',' + (d[i + 2] >> 4)] = 1;
        }
        return [n, c.width * c.height, Object.keys(seen).length];""")
    assert painted > 0.03 * total and colours > 20, (painted, total, colours)
    shown = browser.find_element(By.CSS_SELECTOR, "h1 small").text
    assert int(browser.find_element(By.ID, "viewer").get_attribute("data-atoms")) == \
        next(d.n_atoms for d in ifaces if d.interface_id == shown)
    if shown != ifaces[0].interface_id:  # the E(d) scan belongs to the first interface
        browser.get(f"{server}/interfaces/{ifaces[0].interface_id}")
    plot = browser.find_element(By.CSS_SELECTOR, "#ed-plot svg")
    assert plot.size["width"] > 200 and plot.size["height"] > 150
    assert len(plot.find_elements(By.CSS_SELECTOR, "path")) > 10
    # dragging rotates (the picture changes)
    before = browser.execute_script("return document.getElementById('viewer').toDataURL();")
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element(browser.find_element(By.ID, "viewer")).click_and_hold() \
        .move_by_offset(60, 25).release().perform()
    assert browser.execute_script("return document.getElementById('viewer').toDataURL();") != before
    browser.execute_script("document.body.style.zoom = '0.6'")
    browser.save_screenshot(str(tmp_path / "interface.png"))
    assert severe(browser) == []

    # a bad filter: the page says why (HTTP 400), no server error, no script error
    browser.get(f"{server}/interfaces?where={quote('w_sep > lots')}")
    msg = browser.find_element(By.ID, "error").text
    assert "Bad filter" in msg and "unknown field" in msg
    browser.save_screenshot(str(tmp_path / "bad_filter.png"))
    errors = [m for m in severe(browser) if "status of 400" not in m]  # the page's own 400 status line
    assert errors == []
    print("screenshots:", *sorted(p.name for p in tmp_path.glob("*.png")), "in", tmp_path)


def test_other_pages_render_without_console_errors(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    for page in ("engines", "queue", "downloads"):
        browser.get(f"{server}/{page}")
        assert browser.find_element(By.TAG_NAME, "h1").text
        browser.save_screenshot(str(tmp_path / f"{page}.png"))
        assert severe(browser) == [], page
