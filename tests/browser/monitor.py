"""Monitoring in Sluice Studio: a connector's runs over time (a chart and the recent runs,
opened from its name in the list), and the review queue — the stored and the incoming record
side by side with the differing fields marked, one conflict taken, another kept by selection.
Usage: monitor.py BASE_URL SCREENSHOT_DIR."""
import sys

from playwright.sync_api import expect, sync_playwright

base, shots = sys.argv[1], sys.argv[2]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/")
    page.locator("tr[data-connector='people'] .connector-name").click()
    expect(page.locator("#detail-name")).to_have_text("people")
    expect(page.locator("#chart rect.run-bar")).to_have_count(3)
    expect(page.locator("#history tbody tr")).to_have_count(3)
    expect(page.locator("#chart svg")).to_have_attribute("aria-label", "3 runs, 7 records read, the last with an error rate of 0.00 %")
    page.screenshot(path=shots + "/studio-monitoring.png", full_page=True)

    page.click("#tab-reviews")
    reviews = page.locator(".review")
    expect(reviews).to_have_count(2)
    first = reviews.nth(0)
    expect(first.locator("tr[data-differs='name'] td.differs").nth(1)).to_have_text('"FIRST"')
    expect(first.locator("tr[data-differs='name'] td.differs").nth(2)).to_have_text('"SECOND"')
    expect(first.locator("tr[data-differs]")).to_have_count(1)
    page.screenshot(path=shots + "/studio-reviews.png", full_page=True)
    first.get_by_role("button", name="Take incoming").click()
    expect(page.locator("#reviews-status")).to_have_text("1 taken")
    expect(reviews).to_have_count(1)
    reviews.nth(0).locator(".pick").check()
    page.click("#keep-selected")
    expect(page.locator("#reviews-status")).to_have_text("1 kept")
    expect(page.locator("#reviews")).to_have_text("nothing waits for a decision")
    assert not errors, errors
    browser.close()
print("ok")
