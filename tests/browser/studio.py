"""Sluice Studio used as a mapping author would, by mouse and keyboard: the connector list
(grouped by set, searched as you type, paged at the seed's page sizes, a health mark that
changes after Run now), and the formula playground (a misspelt function marked and
explained, gone when fixed; values on the sample records; completion of functions and field
names accepted with Tab; signature help). Driven by Playwright on Debian's Chromium (no
browser download). Usage: studio.py BASE_URL SCREENSHOT_DIR."""
import sys

from playwright.sync_api import expect, sync_playwright

from editing import replace

base, shots = sys.argv[1], sys.argv[2]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/")
    rows = page.locator("tr[data-connector]")

    # the list: 12 connectors in two sets, 10 to a page
    expect(rows).to_have_count(10)
    expect(page.locator("#page-info")).to_have_text("page 1 of 2")
    expect(page.locator("tr.set[data-set='erp']")).to_be_visible()
    expect(page.locator("tr.set[data-set='crm']")).to_be_visible()
    page.click("#next")
    expect(rows).to_have_count(2)
    expect(page.locator("#prev")).to_be_enabled()
    page.select_option("#page-size", "5")
    expect(rows).to_have_count(5)
    expect(page.locator("#page-info")).to_have_text("page 1 of 3")
    for size in ["25", "50", "100"]:
        page.select_option("#page-size", size)
        expect(rows).to_have_count(12)
    # search as you type
    page.fill("#search", "orders")
    expect(rows).to_have_count(3)
    expect(page.locator("#updated")).to_contain_text("3 of 12 connectors")
    page.fill("#search", "erp-orders-2")
    expect(rows).to_have_count(1)
    row = page.locator("tr[data-connector='erp-orders-2']")
    expect(row.locator(".health")).to_have_text("never ran")
    row.get_by_role("button", name="Run now").click()
    expect(row.locator(".health")).to_have_text("ok", timeout=20000)
    expect(row).to_contain_text("succeeded")
    page.fill("#search", "")
    expect(rows).to_have_count(12)
    page.screenshot(path=shots + "/studio-connectors.png", full_page=True)

    # the playground, reached by keyboard
    page.focus("#tab-connectors")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#playground-view")).to_be_visible()
    expect(page.locator("#tab-playground")).to_have_attribute("aria-selected", "true")
    # the formula is a CodeMirror editor with the Sluice mode: colours, problems underlined
    formula = page.locator("#formula .cm-content")
    expect(formula).to_have_attribute("aria-label", "Formula")
    expect(page.locator("#formula .cm-content [class^=ͼ]").first).to_be_visible()
    replace(formula, "concat(data('CardName'), ' / ', uper(data('CardCode')))")
    expect(page.locator("#findings li")).to_have_count(1)
    expect(page.locator("#findings li")).to_contain_text("E201")
    expect(page.locator("#findings li")).to_contain_text("upper")  # did you mean
    expect(page.locator("#formula .cm-lintRange-error")).to_have_text("uper")
    # the syntax colours: a function name and a string are styled differently
    colour = lambda text: page.locator("#formula .cm-line span", has_text=text).first.evaluate("e => getComputedStyle(e).color")
    assert colour("concat") != colour("' / '"), (colour("concat"), colour("' / '"))
    replace(formula, "concat(data('CardName'), ' / ', upper(data('CardCode')))")
    expect(page.locator("#findings li")).to_have_count(0)
    expect(page.locator("#formula .cm-lintRange-error")).to_have_count(0)
    expect(page.locator("#type")).to_contain_text("string")
    expect(page.locator("#values tbody tr")).to_have_count(2)
    expect(page.locator("#values tbody tr").first).to_contain_text('"Acme GmbH / C001"')
    # a runtime error on one record is shown beside the other's value
    replace(formula, "1 / data('Balance') * 0 + 100 / (data('Balance') + 20)")
    expect(page.locator("#values td.error")).to_contain_text("E")
    # completion: a function by its first letters, accepted with Tab; then a field name
    replace(formula, "")
    formula.press_sequentially("rou", delay=40)
    options = page.locator(".cm-tooltip-autocomplete li .cm-completionLabel")
    expect(options.first).to_have_text("round")
    page.wait_for_timeout(200)  # a key pressed as the list appears does not take from it
    formula.press("Tab")
    expect(formula).to_have_text("round()")
    formula.press_sequentially("data('Ba", delay=40)
    expect(options).to_have_text(["Balance"])
    page.wait_for_timeout(200)
    formula.press("Tab")
    expect(formula).to_have_text("round(data('Balance'))")
    # the auto-closed quote and bracket are stepped over when typed
    formula.press_sequentially("'), ", delay=40)
    # signature help above the cursor, the argument being typed marked
    expect(page.locator(".sluice-signature .active")).to_contain_text("digits")
    formula.press_sequentially("1", delay=40)
    expect(formula).to_have_text("round(data('Balance'), 1)")
    expect(page.locator("#values tbody tr").first).to_contain_text("1250.5")
    page.locator("details summary").click()
    expect(page.locator("#ir")).not_to_be_empty()
    page.screenshot(path=shots + "/studio-playground.png", full_page=True)

    # readable at 200% zoom: the formula and its values still show
    page.evaluate("document.body.style.zoom = '2'")
    expect(page.locator("#formula .cm-content")).to_be_visible()
    page.screenshot(path=shots + "/studio-playground-zoom.png")
    assert not errors, errors
    browser.close()
print("ok")
