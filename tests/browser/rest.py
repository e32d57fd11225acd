"""A REST side made in the wizard as a mapping author would: SAP Business One's Service
Layer as the inbound side (session login), the company typed in, the user named by an
environment variable, the password typed in; Test connection refused with a wrong
password, then passing and giving the sample; Finish seals the typed credentials into the
server's secret store; they are not shown again, and a later test uses the kept ones.
Usage: rest.py BASE_URL SERVICE_URL SCREENSHOT_DIR."""
import sys

from playwright.sync_api import expect, sync_playwright

base, service, shots = sys.argv[1], sys.argv[2], sys.argv[3]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/")
    page.click("#tab-wizard")
    page.fill("#w-name", "sap-partners")
    page.click("#w-next")
    # 2 Inbound: the Service Layer
    page.select_option("#w-in-type", "rest")
    expect(page.locator("#w-in-path")).to_be_hidden()
    page.fill("#w-in-system", "SAP B1")
    page.fill("#w-in-url", service + "/b1s/v1")
    page.fill("#w-in-entity", "BusinessPartners")
    page.select_option("#w-in-auth", "session")
    rows = page.locator("#w-in-rest .credential")
    expect(rows).to_have_count(3)
    page.get_by_label("company_db", exact=True).fill("SBODEMO")
    page.get_by_label("How user is given").select_option("env")
    page.get_by_label("user", exact=True).fill("SAP_USER")
    password = page.get_by_label("password", exact=True)
    expect(password).to_have_attribute("type", "password")
    password.fill("wrong")
    page.click("#w-in-test")
    expect(page.locator("#w-in-tested")).to_contain_text("failed: E6")
    password.fill("s3cret!")
    page.click("#w-in-test")
    tested = page.locator("#w-in-tested")
    expect(tested).to_contain_text("connected: 25 records on the first page")
    expect(tested).to_contain_text("CardCode, CardName")
    assert "s3cret" not in tested.text_content()
    page.screenshot(path=shots + "/studio-rest-inbound.png", full_page=True)
    tested.get_by_role("button", name="Use these records as the sample").click()
    page.click("#w-next")
    # 3 Outbound: the store
    page.fill("#w-out-object", "partner")
    page.fill("#w-out-key", "erp_id")
    page.click("#w-next")
    # 4 Mapping Field: the test's page as the sample
    expect(page.locator("#w-sources .chip")).to_have_count(5)
    for target in ["erp_id", "name"]:
        page.fill("#w-new-target", target)
        page.click("#w-add-target")
    page.locator("#w-sources .chip[data-field='CardCode']").drag_to(page.locator("#w-targets li[data-target='erp_id']"))
    page.locator("#w-sources .chip[data-field='CardName']").drag_to(page.locator("#w-targets li[data-target='name']"))
    page.click("#w-next")
    page.click("#w-next")
    # 6 Completed: the file names the secrets, never their values
    toml = page.locator("#w-toml")
    expect(toml).to_contain_text('password = "secret:password"')
    expect(toml).to_contain_text('user = "env:SAP_USER"')
    assert "s3cret" not in toml.text_content()
    page.click("#w-finish")
    expect(page.locator("#w-written")).to_contain_text("written (inactive)")
    # the typed password has left the page
    page.click("#w-back")
    page.click("#w-back")
    page.click("#w-back")
    page.click("#w-back")
    expect(password).to_have_value("")
    expect(password).to_have_attribute("placeholder", "kept in the secret store: type a new value to replace it")
    assert "s3cret" not in page.content()
    # tested again with the kept credentials: nothing typed
    page.click("#w-in-test")
    expect(page.locator("#w-in-tested")).to_contain_text("connected: 25 records")
    page.screenshot(path=shots + "/studio-rest-kept.png", full_page=True)
    assert not errors, errors
    browser.close()
print("ok")
