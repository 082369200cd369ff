"""A phone on a slow network: page load times of the app as `gridgov run` serves it, in Debian's
Chromium driven by Playwright with Chromium's network emulation (CDP
``Network.emulateNetworkConditions``: 1.6 Mbit/s down and up, 150 ms round trip).

Start the app first, as users get it (gunicorn, app/server.py), then point the script at it:

    GRIDGOV_ADMIN_PASSWORD=Demo@Grid2026 .venv/bin/gridgov run --port 5103 &
    .venv/bin/python bench/network.py --url http://127.0.0.1:5103 --user worker --runs 3

Each run is a new browser context (an empty cache) on a 390×844 phone, and prints, from the
page's own Navigation and Resource Timing:

- ``login page, empty cache``: the sign-in page opened with nothing cached;
- ``first page after login``: the home page the sign-in form leads to (what was cached while
  the sign-in page loaded is used);
- ``first page, empty cache``: the home page of a signed-in user whose browser cache is empty
  (the cache is cleared after signing in): every stylesheet, script and font comes again;
- the later pages, one after another, each the way a person reaches it (the cache as the earlier
  pages left it).

For each page: ``load`` (the load event, ms from the start of the navigation), ``dcl``
(DOMContentLoaded), ``done`` (the last byte of anything the page fetched, the icon font
included, which Chromium may fetch after the load event), the requests that went to the network (revalidations included: a 304 is a
round trip too), the bytes they brought (as sent: compressed when the server compressed) and
those bytes uncompressed. The median over ``--runs`` runs. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import statistics
import sys

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "Demo@Grid2026"
# 1.6 Mbit/s each way, in bytes per second as CDP takes it; 150 ms added to every round trip
CONDITIONS = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8,
              "uploadThroughput": 1_600_000 / 8}
LATER_PAGES = ("/incidentmodelview/list/", "/gridmodelview/list/", "/workermodelview/list/",
               "/incidentmodelview/report", "/volunteermodelview/list/", "/")

# What one navigation cost, read in the page once it has loaded.
TIMING = """async () => {
  await document.fonts.ready;
  const nav = performance.getEntriesByType('navigation')[0];
  const entries = [nav, ...performance.getEntriesByType('resource')];
  const fetched = entries.filter(e => e.transferSize > 0);
  return {load: nav.loadEventEnd, dcl: nav.domContentLoadedEventEnd,
          done: Math.max(nav.loadEventEnd, ...entries.map(e => e.responseEnd)), requests: fetched.length,
          sent: fetched.reduce((s, e) => s + e.transferSize, 0),
          unpacked: fetched.reduce((s, e) => s + e.decodedBodySize, 0),
          all: entries.length};
}"""


def settle(page):
    page.wait_for_load_state("load")
    return page.evaluate(TIMING)


def one_run(browser, base: str, user: str, password: str, lang: str | None) -> list[tuple[str, dict]]:
    context = browser.new_context(base_url=base, viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", CONDITIONS)
    results = []
    if lang:
        page.goto(f"/lang/{lang}")
    page.goto("/login/")
    results.append(("login page, empty cache", settle(page)))
    page.fill("#username", user)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("input[type=submit], button[type=submit]")
    results.append(("first page after login", settle(page)))
    cdp.send("Network.clearBrowserCache")
    page.goto("/")
    results.append(("first page, empty cache", settle(page)))
    for path in LATER_PAGES:
        page.goto(path)
        results.append((f"later: {path}", settle(page)))
    context.close()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5103")
    parser.add_argument("--user", default="worker")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--lang", default=None, help="en for English (zh is the default)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        for _ in range(args.runs):
            runs.append(one_run(browser, args.url, args.user, args.password, args.lang))
        browser.close()

    print(f"{args.url} as {args.user}, phone 390x844, 1.6 Mbit/s down and up, 150 ms latency; "
          f"median of {args.runs} runs")
    print(f"{'page':34} {'load ms':>8} {'dcl ms':>7} {'done ms':>8} {'requests':>9} {'KB sent':>8} {'KB unpacked':>12}")
    for i, (name, _) in enumerate(runs[0]):
        figures = [run[i][1] for run in runs]

        def median(key):
            return statistics.median(f[key] for f in figures)

        loads = ", ".join(f"{f['load']:.0f}" for f in figures)
        print(f"{name:34} {median('load'):8.0f} {median('dcl'):7.0f} {median('done'):8.0f} {median('requests'):9.0f} "
              f"{median('sent') / 1024:8.1f} {median('unpacked') / 1024:12.1f}   (loads: {loads})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
