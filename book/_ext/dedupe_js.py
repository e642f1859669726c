"""Sphinx extension: drop repeated script tags from every page.

sphinx-thebe registers its inline configuration script once per read phase, and Jupyter Book 1 runs
more than one, so pages declared `const THEBE_JS_URL` twice and the browser logged an error on every
page. This keeps the first of identical script entries (same file and attributes; an inline script's
file is None or '' depending on who added it)."""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for js in context.get("script_files", []):
        key = (str(getattr(js, "filename", js) or ""),  # inline scripts: None or '', whatever the priority
               tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept



def setup(app):
    app.setup_extension("paper_eqno")  # equations numbered as in the paper (book/_ext/paper_eqno.py)
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
