"""Monitoring in Sluice Studio: a connector's runs over time (a chart and the recent runs,
opened from its name in the list), and the review queue — the stored and the incoming record
side by side with the differing fields marked, one conflict taken, one edited then taken,
another kept by selection. Then dead letters: a run leaves two, shown with their code; one
record is fixed in the page, the mapping is fixed in the connector file, and the letters are
retried from the page until they are gone.
Usage: monitor.py BASE_URL ORDERS_CONNECTOR_FILE SCREENSHOT_DIR."""
import pathlib
import sys
import time

from playwright.sync_api import expect, sync_playwright

base, orders, shots = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/")
    # runs made before the server started (by `sluice run` on its store) are its last sync
    people = page.locator("tr[data-connector='people']")
    expect(people.locator(".health")).to_have_text("ok")
    expect(people).to_contain_text("succeeded")
    page.locator("tr[data-connector='people'] .connector-name").click()
    expect(page.locator("#detail-name")).to_have_text("people")
    expect(page.locator("#chart rect.run-bar")).to_have_count(4)
    expect(page.locator("#history tbody tr")).to_have_count(4)
    expect(page.locator("#chart svg")).to_have_attribute("aria-label", "4 runs, 8 records read, the last with an error rate of 0.00 %")
    # the lag: since the last run's end, and per run (from the run before's end to its own)
    expect(page.locator("#current .lag")).to_contain_text("Lag: synced")
    expect(page.locator("#lag-chart svg .lag-line")).to_have_count(1)
    expect(page.locator("#history thead")).to_contain_text("Lag")
    expect(page.locator("#history tbody tr").last.locator("td").last).to_have_text("–")
    page.screenshot(path=shots + "/studio-monitoring.png", full_page=True)

    page.click("#tab-reviews")
    reviews = page.locator(".review")
    expect(reviews).to_have_count(3)
    first = reviews.nth(0)
    expect(first.locator("tr[data-differs='name'] td.differs").nth(1)).to_have_text('"FIRST"')
    expect(first.locator("tr[data-differs='name'] td.differs").nth(2)).to_have_text('"SECOND"')
    expect(first.locator("tr[data-differs]")).to_have_count(1)
    page.screenshot(path=shots + "/studio-reviews.png", full_page=True)
    first.get_by_role("button", name="Take incoming").click()
    expect(page.locator("#reviews-status")).to_have_text("1 taken")
    expect(reviews).to_have_count(2)
    # the third conflict (id 2): the incoming record edited, then taken; an edit that
    # changes the key is refused
    second = reviews.nth(1)
    second.get_by_role("button", name="Edit, then take").click()
    editor = second.locator(".record-editor textarea")
    editor.fill('{"id": 9, "name": "DEUX, checked"}')
    second.locator(".record-editor").get_by_role("button", name="Save").click()
    expect(second.locator(".record-editor .problem")).to_contain_text("E709")
    editor.fill('{"id": 2, "name": "DEUX, checked"}')
    second.locator(".record-editor").get_by_role("button", name="Save").click()
    expect(page.locator("#reviews-status")).to_have_text("1 edited and taken")
    expect(reviews).to_have_count(1)
    reviews.nth(0).locator(".pick").check()
    page.click("#keep-selected")
    expect(page.locator("#reviews-status")).to_have_text("1 kept")
    expect(page.locator("#reviews")).to_have_text("nothing waits for a decision")

    # a dead letter: shown with its code, the mapping fixed, retried until it is gone
    page.click("#tab-connectors")
    row = page.locator("tr[data-connector='orders']")
    row.get_by_role("button", name="Run now").click()
    expect(row.locator(".health")).to_have_text("ok, with errors", timeout=20000)
    row.locator(".connector-name").click()
    letters = page.locator("#letters-list li")
    expect(letters).to_have_count(2)
    expect(letters.first).to_contain_text('"parts":0')
    code = letters.first.get_attribute("data-code")
    assert code.startswith("E3"), code
    page.select_option("#letter-code", code)
    expect(page.locator("#letters-info")).to_have_text("1–2 of 2")
    # the second letter's record fixed in the page: it stays a letter until retried
    letters.nth(1).get_by_role("button", name="Edit record").click()
    editor = letters.nth(1).locator(".record-editor textarea")
    expect(editor).to_have_value('{\n  "id": 3,\n  "parts": 0\n}')
    editor.fill("not json")
    letters.nth(1).get_by_role("button", name="Save").click()
    expect(letters.nth(1).locator(".problem")).to_contain_text("not JSON")
    editor.fill('{"id": 3, "parts": 5}')
    page.screenshot(path=shots + "/studio-dead-letters.png", full_page=True)
    letters.nth(1).get_by_role("button", name="Save").click()
    expect(letters.nth(1)).to_contain_text('"parts":5')
    expect(letters.nth(1)).to_contain_text("(edited)")
    text = orders.read_text().replace("100 / data('parts')", "if(data('parts') = 0, 0, 100 / data('parts'))")
    orders.write_text(text)
    time.sleep(1.0)  # the server looks at its files every 100 ms in the tests
    page.click("#retry-letters")
    expect(page.locator("#retry-status")).to_contain_text("queued")
    expect(page.locator("#letters-info")).to_have_text("none", timeout=20000)
    # the refused edit's 422 is the one failed request the browser reports
    errors = [e for e in errors if "status of 422" not in e]
    assert not errors, errors
    browser.close()
print("ok")
