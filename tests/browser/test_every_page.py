"""Every page, as each demo account: no sideways scrolling at 320 px (WCAG 1.4.10) and no axe-core violation.

A crawl signs in as each demo account and follows every same-site link it finds (GET only, so it changes
nothing), visiting at most `PER_ROUTE` addresses of each route (a person's page, a State's page …), so that
each kind of page is seen with the data of each role without visiting all 193 States. Each page is checked at
desktop width and at 320 px: `scrollWidth <= innerWidth`, and axe-core (vendored in `vendor/`) reports no
violation of impact moderate or above.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
NARROW, DESKTOP = 320, 1280
PER_ROUTE = 2
MAX_PAGES = 120  # per account: a crawl that runs away fails rather than hangs
FAILING_IMPACTS = {"moderate", "serious", "critical"}


ACCOUNTS = ["secretariat@example.org", "focal.point@example.org", "expert.fr@example.org", "expert.ng@example.org",
            "observer@example.org", "fp.jpn@example.org"]

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}));
}"""
OVERFLOW = """() => {
  const wide = [];
  for (const element of document.querySelectorAll("body *")) {
    if (element.getBoundingClientRect().right > window.innerWidth + 1) {
      let clipped = false;
      for (let p = element.parentElement; p && !clipped; p = p.parentElement) {
        clipped = getComputedStyle(p).overflowX !== "visible";
      }
      if (!clipped) wide.push(`${element.tagName.toLowerCase()}.${element.className}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, wide: wide.slice(0, 5)};
}"""


def sign_in(page, email, password):
    """Sign in through the form."""
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def route_of(app, path: str) -> str | None:
    """The endpoint a path belongs to, or None when it is no page of the app."""
    try:
        endpoint, _args = app.url_map.bind("localhost").match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return None
    return endpoint


def same_site_links(page, base_url: str) -> list[str]:
    """The paths (with their query) of the page's links to this site."""
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base_url:
            continue
        paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def crawl(page, app, base_url: str):
    """Yield each page reached from the dashboard, at most PER_ROUTE per route, after loading it."""
    queue, seen, per_route, visited = deque(["/"]), {"/"}, {}, 0
    while queue:
        path = queue.popleft()
        endpoint = route_of(app, urlsplit(path).path)
        if endpoint is None or endpoint == "static" or per_route.get(endpoint, 0) >= PER_ROUTE:
            continue
        per_route[endpoint] = per_route.get(endpoint, 0) + 1
        response = page.goto(path)
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        visited += 1
        assert visited <= MAX_PAGES, f"the crawl visited more than {MAX_PAGES} pages"
        yield path, response.status
        for link in same_site_links(page, base_url):
            if link not in seen:
                seen.add(link)
                queue.append(link)


@pytest.mark.parametrize("email", ACCOUNTS)
def test_every_page_reflows_at_320_px_and_passes_axe(browser, live_app, full_demo, email):
    base_url = live_app.config["LIVE_URL"]
    context = browser.new_context(base_url=base_url, bypass_csp=True, viewport={"width": DESKTOP, "height": 900})
    page = context.new_page()
    problems, checked = [], []
    try:
        sign_in(page, email, live_app.config["DEMO_PASSWORD"])
        for path, status in crawl(page, live_app, base_url):
            if status >= 400:
                problems.append(f"{path}: answered {status}")
                continue
            checked.append(path)
            for width in (DESKTOP, NARROW):
                page.set_viewport_size({"width": width, "height": 900})
                if width == NARROW:
                    box = page.evaluate(OVERFLOW)
                    if box["scrollWidth"] > box["innerWidth"]:
                        problems.append(f"{path} at {width} px: {box['scrollWidth']} px wide ({box['wide']})")
                page.add_script_tag(path=str(AXE))
                for violation in page.evaluate(AXE_RUN):
                    if violation["impact"] in FAILING_IMPACTS:
                        problems.append(f"{path} at {width} px: {violation['id']} ({violation['impact']}): "
                                        f"{violation['help']} — {violation['nodes']}")
            page.set_viewport_size({"width": DESKTOP, "height": 900})
    finally:
        context.close()
    assert len(checked) >= 3, f"the crawl as {email} reached too few pages: {checked}"
    assert not problems, f"as {email}, {len(problems)} problem(s) on {len(checked)} pages:\n" + "\n".join(problems)


@pytest.mark.parametrize(("width", "one_line"), [(NARROW, False), (1366, True)])
def test_the_header_keeps_sign_out_and_the_language_switch_in_view(browser, live_app, full_demo, width, one_line):
    context = browser.new_context(base_url=live_app.config["LIVE_URL"], viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, "secretariat@example.org", live_app.config["DEMO_PASSWORD"])
        for control in (page.get_by_role("button", name="Sign out"), page.get_by_label("Language"),
                        page.get_by_role("button", name="Change language")):
            box = control.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (control, box)
        tops = page.eval_on_selector_all(".main-nav a", "links => links.map((a) => a.getBoundingClientRect().top)")
        assert len(tops) >= 6
        if one_line:
            assert len(set(tops)) == 1, f"the secretariat's menu wraps at {width} px: {tops}"
    finally:
        context.close()
