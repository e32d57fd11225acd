"""The current run's progress as an operator watches it: a long run started from its row,
its counts, rate and how far into its file it is shown while it runs, then the lag once it
has synced, and the chart and the recent runs updated with it. Usage: progress.py BASE_URL SCREENSHOT_DIR."""
import sys

from playwright.sync_api import expect, sync_playwright

base, shots = sys.argv[1], sys.argv[2]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/")
    row = page.locator("tr[data-connector='watched']")
    row.locator(".connector-name").click()
    expect(page.locator("#current .lag")).to_have_text("Lag: never synced")
    expect(page.locator("#chart")).to_have_text("no runs that read records yet")
    row.get_by_role("button", name="Run now").click()
    expect(page.locator("#current .progress")).to_contain_text("Running for", timeout=20000)
    expect(page.locator("#current .progress")).to_contain_text("records/s")
    expect(page.locator("#current progress")).to_be_visible()
    expect(row.locator(".state")).to_contain_text("running ·")
    page.screenshot(path=shots + "/studio-progress.png", full_page=True)
    # while it runs, the lag counts from its last commit; once done, from its end
    expect(page.locator("#current .progress")).to_have_count(0, timeout=60000)
    expect(page.locator("#current .lag")).to_contain_text("Lag: synced")
    expect(row.locator(".state")).to_have_text("idle")
    # the chart and the recent runs update with the run that ended
    expect(page.locator("#chart rect.run-bar")).to_have_count(1, timeout=10000)
    expect(page.locator("#history tbody tr").first).to_contain_text("150000")
    assert not errors, errors
    browser.close()
print("ok")
