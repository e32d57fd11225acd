"""Sluice Studio checked with axe-core (injected from tests/browser/node_modules, installed
by .ci/run): every view — the connector list with a connector's runs open, the playground,
each of the wizard's six steps, the review queue — has no serious or critical accessibility
violation. Usage: axe.py BASE_URL AXE_JS."""
import sys

from playwright.sync_api import expect, sync_playwright

base, axe = sys.argv[1], sys.argv[2]
found = []


def check(page, view):
    page.add_script_tag(path=axe)
    result = page.evaluate(
        "async () => { const r = await axe.run(document); return {violations: r.violations, passes: r.passes.length}; }"
    )
    # axe ran its rules on the view (dozens pass on any page)
    assert result["passes"] > 10, (view, result["passes"])
    for v in result["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = [", ".join(n["target"]) for n in v["nodes"][:3]]
            found.append(f"{view}: {v['id']} ({v['impact']}): {v['help']} — {targets}")


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    # the page forbids inline scripts (CSP): only this test context, which injects axe, may
    page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page.goto(base + "/")
    expect(page.locator("tr[data-connector]").first).to_be_visible()
    page.locator("tr[data-connector] .connector-name").first.click()
    expect(page.locator("#detail")).to_be_visible()
    check(page, "connectors")
    page.click("#tab-playground")
    expect(page.locator("#values tbody tr").first).to_be_visible()
    check(page, "playground")
    page.click("#tab-wizard")
    page.fill("#w-name", "axe-check")
    for step in range(1, 7):
        # the REST side with its credentials, and the formula editors: a formula target and
        # a condition
        if step == 2:
            page.select_option("#w-in-type", "rest")
            page.select_option("#w-in-auth", "basic")
            expect(page.locator("#w-in-rest .credential")).to_have_count(2)
        if step == 4:
            page.fill("#w-new-target", "label")
            page.click("#w-add-target")
            page.locator("#w-targets select").first.select_option("formula")
            expect(page.locator("#w-targets .cm-content")).to_be_visible()
        if step == 5:
            page.click("#w-add-condition")
            expect(page.locator("#w-conditions .cm-content")).to_be_visible()
        check(page, f"wizard step {step}")
        if step < 6:
            page.click("#w-next")
    page.click("#tab-reviews")
    expect(page.locator("#reviews")).not_to_be_empty()
    check(page, "review queue")
    browser.close()
for line in found:
    print(line)
print("ok" if not found else f"{len(found)} violations")
