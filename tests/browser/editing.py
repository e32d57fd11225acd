"""Helpers the browser tests share for the formula editors (CodeMirror)."""


def replace(editor, text):
    """Replaces a formula editor's text as a person would: select all, then type it in
    (a paste-like input, so that the auto-closed brackets do not double)."""
    editor.click()
    editor.press("Control+a")
    if text:
        editor.page.keyboard.insert_text(text)
    else:
        editor.press("Backspace")
