"""Swagger UI and ReDoc in a real browser with no internet: `make e2e`.

Starts the service on the demo data (a throwaway PostgreSQL cluster and a free port, so a
running `make run` is left alone), issues an admin key with `inovasi keys create`, and drives
headless Chromium (Debian's, with its chromedriver) with every host but 127.0.0.1
unresolvable: the pages render, Authorize takes the key, Try it out runs a GET and a POST, ReDoc
renders, and the browser neither loaded anything from another origin nor logged an error.
Screenshots go to .data/e2e/. Exits 1 on the first failed check; the browser, the service and
the cluster are stopped in any case.

    .venv/bin/python -m tests.e2e.docs_e2e
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.engine import URL

from app import cli
from tests.harness import Cluster, fresh_database, serve

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / ".data" / "e2e"
TIMEOUT = 30

LIST_INNOVATIONS = "operations-innovations-innovations-list_innovations"
# Its example (a programme of Jawa Tengah) creates a new record on the demo data: programmes
# have no natural key.
CREATE_PROGRAM = "operations-replication-replication-create_program"


# Chromium's words for a load the page's Content-Security-Policy blocked.
_REFUSED = re.compile(r"'([^']+)' (?:because it )?violates the following Content Security Policy")


class CheckFailed(Exception):
    pass


def check(what: str, ok: bool, detail: object = "") -> None:
    if not ok:
        raise CheckFailed(f"{what}: {detail}" if detail != "" else what)
    print(f"ok    {what}", flush=True)


def admin_key(url: URL) -> str:
    """A key from `inovasi keys create`, which prints it alone on its last line."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "app.cli", "keys", "create", "--name", "e2e", "--role", "admin"],
        env={**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def chromium() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",  # runs as root here
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        # No internet: any host but the service's is not found.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--no-first-run",
        "--disable-background-networking",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    driver = webdriver.Chrome(service=ChromeService(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, what: str, found: Callable[[WebDriver], Any]) -> Any:
    try:
        return WebDriverWait(driver, TIMEOUT).until(lambda d: found(d) or None)
    except TimeoutException:
        screenshot(driver, "failure.png")
        raise CheckFailed(f"{what}: not there after {TIMEOUT} s (see failure.png)") from None


def css(scope: WebDriver | WebElement, selector: str) -> list[WebElement]:
    return scope.find_elements(By.CSS_SELECTOR, selector)


def click(driver: WebDriver, element: WebElement) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def screenshot(driver: WebDriver, name: str) -> None:
    driver.save_screenshot(str(OUT / name))


def only_this_origin(driver: WebDriver, base: str, page: str) -> None:
    """Nothing the page asked for left `base`, and the console holds no error.

    An off-origin URL may appear among the page's resources only where the page's
    Content-Security-Policy refused it (ReDoc's Redocly logo): the browser then sends nothing
    and says so in the console. A load that was tried (and found no host) is an error.
    """
    requested: list[str] = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    refused = {found.group(1) for m in errors if (found := _REFUSED.search(m))}
    for url in sorted(refused):
        print(f"note  {page}: refused by the page's policy, never requested: {url}", flush=True)
    foreign = [
        u
        for u in requested
        if not u.startswith((base + "/", "blob:", "data:")) and u not in refused
    ]
    check(
        f"{page}: {len(requested)} resources, none fetched from another origin",
        not foreign,
        foreign,
    )
    mine = [u for u in refused if u.startswith(base + "/")]
    check(f"{page}: the page's policy refused nothing of its own origin", not mine, mine)
    others = [m for m in errors if not _REFUSED.search(m)]
    check(f"{page}: no other error in the browser console", not others, others)


def try_it_out(driver: WebDriver, operation_id: str) -> tuple[WebElement, str]:
    """Open an operation, press Try it out then Execute; the block and the live status."""
    block = wait_for(driver, operation_id, lambda d: d.find_element(By.ID, operation_id))
    click(driver, css(block, ".opblock-summary-control")[0])
    click(driver, wait_for(driver, "Try it out", lambda d: css(block, ".try-out__btn"))[0])
    click(driver, wait_for(driver, "Execute", lambda d: css(block, "button.execute"))[0])
    status = wait_for(
        driver,
        f"{operation_id} response",
        lambda d: [
            e.text.strip()
            for e in css(block, ".live-responses-table .response .response-col_status")
            if e.text.strip()
        ],
    )[0]
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'start'});",
        css(block, ".responses-inner")[0],
    )
    return block, str(status)


def swagger_ui(driver: WebDriver, base: str, key: str) -> None:
    driver.get(base + "/docs")
    title = wait_for(driver, "Swagger UI title", lambda d: css(d, ".info .title"))[0]
    wait_for(driver, "GET /api/v1/innovations", lambda d: d.find_elements(By.ID, LIST_INNOVATIONS))
    operations = css(driver, ".opblock")
    screenshot(driver, "docs.png")
    check("/docs: Swagger UI shows the API title", "Inovasi Hub" in title.text, title.text)
    # Swagger UI breaks long paths with zero-width spaces.
    paths = [
        e.text.replace("\u200b", "") for e in css(driver, ".opblock-get .opblock-summary-path")
    ]
    check(
        f"/docs: {len(operations)} operations rendered, GET /api/v1/innovations among them",
        "/api/v1/innovations" in paths,
        paths,
    )
    only_this_origin(driver, base, "/docs")

    click(driver, css(driver, ".scheme-container button.authorize")[0])
    field = wait_for(driver, "the key field", lambda d: css(d, ".modal-ux input[type=text]"))[0]
    field.send_keys(key)
    click(driver, css(driver, ".modal-ux button.modal-btn.authorize")[0])
    wait_for(driver, "Logout (authorized)", lambda d: css(d, ".modal-ux button.modal-btn.auth"))
    modal = css(driver, ".modal-ux")[0].text
    screenshot(driver, "authorized.png")
    check("Authorize: the admin key is accepted", "Authorized" in modal, modal)
    click(driver, css(driver, ".modal-ux button.btn-done")[0])
    wait_for(driver, "the dialog closes", lambda d: not css(d, ".modal-ux"))
    locked = css(driver, ".scheme-container button.authorize")[0].get_attribute("class") or ""
    check("Authorize: the padlock is closed", "locked" in locked.split(), locked)

    block, status = try_it_out(driver, LIST_INNOVATIONS)
    screenshot(driver, "try-get.png")
    check("Try it out GET /api/v1/innovations: 200", status == "200", status)
    curl = " ".join(e.text for e in css(block, ".curl-command"))
    # Open data: the operation declares no security (no padlock), so Swagger UI sends no key.
    check("Try it out GET is open data, sent without a key", "Authorization" not in curl, curl)

    block, status = try_it_out(driver, CREATE_PROGRAM)
    screenshot(driver, "try-post.png")
    body = " ".join(e.text for e in css(block, ".live-responses-table .response-col_description"))
    check(
        "Try it out POST /api/v1/replication-programs with its example: 2xx",
        status.startswith("2"),
        f"{status} {body[:300]}",
    )
    only_this_origin(driver, base, "/docs after Try it out")


def redoc(driver: WebDriver, base: str) -> None:
    driver.get(base + "/redoc")
    heading = wait_for(driver, "ReDoc title", lambda d: css(d, ".api-content h1"))[0]
    operation = wait_for(
        driver,
        "ReDoc operation",
        lambda d: css(d, "[data-section-id$='operation/innovations-list_innovations']"),
    )[0]
    screenshot(driver, "redoc.png")
    check("/redoc: ReDoc shows the API title", "Inovasi Hub" in heading.text, heading.text)
    text = operation.text
    check("/redoc: GET /api/v1/innovations rendered", "List and search innovations" in text, text)
    only_this_origin(driver, base, "/redoc")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    cluster = Cluster()
    try:
        cluster.start()
        url = fresh_database(cluster.url, "inovasi_e2e")
        loaded = cli.seed_demo(url)
        print(f"demo data: {', '.join(f'{n} {kind}' for kind, n in loaded.items())}", flush=True)
        key = admin_key(url)
        with (
            (OUT / "service.log").open("wb") as log,
            serve(url, env={"LOG_LEVEL": "INFO"}, stderr=log) as base,
            chromium() as driver,
        ):
            print(f"service at {base}; screenshots in {OUT.relative_to(ROOT)}/", flush=True)
            swagger_ui(driver, base, key)
            redoc(driver, base)
    except CheckFailed as exc:
        print(f"FAIL  {exc}", file=sys.stderr)
        return 1
    except WebDriverException as exc:  # its stack trace is the driver's, of no use here
        print(f"FAIL  browser: {exc.msg}", file=sys.stderr)
        return 1
    finally:
        cluster.remove()
    print("e2e: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
