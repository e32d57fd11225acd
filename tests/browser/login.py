"""The web page of `sluice serve`, used as a person would: the login form, a wrong token,
the right one, the connectors that appear, Run now, and logging out. Driven by Playwright
on Debian's Chromium (no browser download). Usage: login.py BASE_URL TOKEN SCREENSHOT."""
import sys

from playwright.sync_api import expect, sync_playwright

base, token, screenshot = sys.argv[1], sys.argv[2], sys.argv[3]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#main")).to_be_hidden()
    page.fill("#token", "slt_not-a-token")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("unknown or revoked")
    page.fill("#token", token)
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_visible()
    expect(page.locator("tr[data-connector='c']")).to_be_visible()
    expect(page.locator("#who-name")).to_contain_text("alice (admin)")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["sluice_session"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict", session
    page.locator("tr[data-connector='c']").get_by_role("button", name="Run now").click()
    expect(page.locator("tr[data-connector='c']")).to_contain_text("succeeded", timeout=20000)
    page.screenshot(path=screenshot)
    page.click("#logout")
    expect(page.locator("#login")).to_be_visible()
    page.reload()
    expect(page.locator("#login")).to_be_visible()
    assert not [e for e in errors if "401" not in e], errors
    browser.close()
print("ok")
