"""How long Sluice Studio takes to load with many connectors: from navigation to the list
rendered (the line "N connectors" shown), in headless Chromium, best and median of several
loads. Usage: studio_load.py BASE_URL CONNECTORS LOADS."""
import statistics
import sys

from playwright.sync_api import sync_playwright

base, count, loads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
times = []
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    for _ in range(loads):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/")
        # polled from outside the page: its CSP forbids evaluating strings inside it
        page.locator("#updated").filter(has_text=f"{count} connectors").wait_for(timeout=60000)
        times.append(page.evaluate("() => performance.now()"))
        page.close()
    browser.close()
times.sort()
print(f"{count} connectors, {loads} loads: best {times[0]:.0f} ms, median {statistics.median(times):.0f} ms, worst {times[-1]:.0f} ms")
