"""The six-step wizard of Sluice Studio, as a mapping author uses it: name and description,
the inbound file, the outbound store object, sample records uploaded as a file, a field
mapped by dragging it onto a target, a Raw Data value, a formula whose misspelt function is
flagged as it is typed and cleared when fixed (with its value on the first sample record), a
condition with how many sample records pass, the review with the TOML and the dry run, Finish
(written inactive), and Activate after confirming. Usage: wizard.py BASE_URL SAMPLE_FILE
SCREENSHOT_DIR."""
import json
import pathlib
import sys

from playwright.sync_api import expect, sync_playwright

from editing import replace

base, sample, shots = sys.argv[1], sys.argv[2], sys.argv[3]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/")
    expect(page.locator("tr[data-connector]").first).to_be_visible()
    page.click("#tab-wizard")
    expect(page.locator("#w-steps li[aria-current=step]")).to_have_text("Information")

    # 1 Information: a name that exists is refused
    page.fill("#w-name", "erp-orders-1")
    page.click("#w-next")
    expect(page.locator("#w-error")).to_contain_text("must be unique")
    page.fill("#w-name", "partners-to-fsm")
    page.fill("#w-description", "Business partners into FSM customers")
    page.click("#w-next")
    # 2 Inbound
    expect(page.locator("#w-steps li[aria-current=step]")).to_have_text("Inbound")
    page.select_option("#w-in-type", "ndjson")
    page.fill("#w-in-path", "partners.ndjson")
    expect(page.locator("#w-in-active")).not_to_be_checked()
    page.click("#w-next")
    # 3 Outbound
    page.select_option("#w-out-type", "store")
    page.fill("#w-out-object", "fsmcustomer")
    page.fill("#w-out-key", "erp_id")
    page.click("#w-next")
    # 4 Mapping Field: the sample uploaded, a field dragged onto a target
    page.set_input_files("#w-sample-file", sample)
    expect(page.locator("#w-sources .chip")).to_have_count(3)
    for target in ["erp_id", "source", "name"]:
        page.fill("#w-new-target", target)
        page.click("#w-add-target")
    expect(page.locator("#w-targets li")).to_have_count(3)
    page.locator("#w-sources .chip[data-field='CardCode']").drag_to(page.locator("#w-targets li[data-target='erp_id']"))
    expect(page.locator("#w-targets li[data-target='erp_id'] .target-value")).to_have_value("CardCode")
    source = page.locator("#w-targets li[data-target='source']")
    source.locator("select").select_option("raw")
    source.locator(".target-value").fill("SAP")
    name = page.locator("#w-targets li[data-target='name']")
    name.locator("select").select_option("formula")
    formula = name.locator(".target-value .cm-content")
    replace(formula, "concat(uper(data('CardName')), ' (', data('CardCode'), ')')")
    expect(name.locator(".cm-lintRange-error")).to_have_text("uper")
    expect(name.locator(".finding")).to_contain_text("E201")
    replace(formula, "concat(upper(data('CardName')), ' (', data('CardCode'), ')')")
    expect(name.locator(".finding")).to_have_text("")
    expect(name.locator(".sample")).to_contain_text('"ACME GMBH (C001)"')
    page.screenshot(path=shots + "/studio-wizard-mapping.png", full_page=True)
    page.click("#w-next")
    # 5 Conditions
    page.click("#w-add-condition")
    replace(page.locator("#w-conditions .cm-content").first, "data('Balance') > 0")
    expect(page.locator("#w-conditions .passing").first).to_have_text("2 of 3 sample records pass")
    page.click("#w-next")
    # 6 Completed: the TOML, the dry run, Finish, Activate
    expect(page.locator("#w-toml")).to_contain_text('name = "partners-to-fsm"')
    expect(page.locator("#w-toml")).to_contain_text("active = false")
    expect(page.locator("#w-dry tbody tr")).to_have_count(3)
    expect(page.locator("#w-dry tbody tr").nth(0)).to_contain_text('"erp_id":"C001"')
    expect(page.locator("#w-dry tbody tr").nth(1)).to_contain_text("filtered by condition 1")
    # what each record would do to the store: nothing is stored yet
    expect(page.locator("#w-dry tbody tr").nth(0)).to_contain_text("a new record in the store")
    # export: the file as TOML and the connector as JSON, downloaded
    with page.expect_download() as got:
        page.click("#w-export-toml")
    assert 'name = "partners-to-fsm"' in pathlib.Path(got.value.path()).read_text()
    with page.expect_download() as got:
        page.click("#w-export-json")
    exported = json.loads(pathlib.Path(got.value.path()).read_text())
    assert exported["name"] == "partners-to-fsm" and exported["conditions"] == ["data('Balance') > 0"], exported
    page.click("#w-finish")
    expect(page.locator("#w-written")).to_contain_text("written (inactive)")
    page.screenshot(path=shots + "/studio-wizard-completed.png", full_page=True)
    page.once("dialog", lambda d: d.accept() if "live integrations" in d.message else d.dismiss())
    page.click("#w-activate")
    expect(page.locator("#w-written")).to_contain_text("activated")
    # the new connector in the list, active, and run from its row
    page.click("#tab-connectors")
    row = page.locator("tr[data-connector='partners-to-fsm']")
    page.fill("#search", "partners-to")
    expect(row).to_contain_text("active", timeout=20000)
    expect(row.locator("td").nth(2)).to_have_text("active", timeout=20000)
    row.get_by_role("button", name="Run now").click()
    expect(row.locator(".health")).to_have_text("ok", timeout=20000)

    # edited from its row: the wizard opens with it, a formula changed and saved again
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#w-name")).to_have_value("partners-to-fsm")
    page.click("#w-next")
    expect(page.locator("#w-in-active")).to_be_checked()
    page.click("#w-next")
    page.click("#w-next")
    expect(page.locator("#w-targets li")).to_have_count(3)
    name = page.locator("#w-targets li[data-target='name'] .target-value .cm-content")
    expect(name).to_have_text("concat(upper(data('CardName')), ' (', data('CardCode'), ')')")
    replace(name, "concat(lower(data('CardName')), ' (', data('CardCode'), ')')")
    page.click("#w-next")
    expect(page.locator("#w-conditions .cm-content")).to_have_text("data('Balance') > 0")
    page.click("#w-next")
    expect(page.locator("#w-toml")).to_contain_text("lower(data('CardName'))")
    # run once, the same records would now change a stored field
    expect(page.locator("#w-dry tbody tr").nth(0)).to_contain_text("updates the stored record (name)")
    page.click("#w-finish")
    expect(page.locator("#w-written")).to_contain_text("partners-to-fsm.toml")
    # its versions: the newest compared with the file, then put back
    versions = page.locator("#w-versions li")
    expect(versions).to_have_count(2)
    versions.first.get_by_role("button", name="Compare").click()
    expect(page.locator("#w-diff .removed")).to_contain_text("upper(data('CardName'))")
    expect(page.locator("#w-diff .added")).to_contain_text("lower(data('CardName'))")
    page.screenshot(path=shots + "/studio-versions.png", full_page=True)
    page.once("dialog", lambda d: d.accept())
    versions.first.get_by_role("button", name="Revert to this").click()
    expect(page.locator("#w-written")).to_contain_text("reverted")
    expect(page.locator("#w-toml")).to_contain_text("upper(data('CardName'))")
    expect(versions).to_have_count(3)
    assert not errors, errors
    browser.close()
print("ok")
