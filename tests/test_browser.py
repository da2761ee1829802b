"""The report in a real browser: headless Chromium opens a generated report.html and a
small script written into the page records, into the DOM that ``--dump-dom`` prints,
whether every image loaded, whether anything is wider than the window, and every
console error. Skipped, with how to install Chromium, where it is absent, except in CI
(``CI=true``), where it must run."""

import json
import os
import re
import shutil
import subprocess

import pytest

from test_report import make_tables
from recipes.reporting import writer

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1280,900", "--virtual-time-budget=5000"]

# Runs in the page: console errors are caught from the start; on load the findings are
# written into a <pre id="browser-check"> that --dump-dom prints.
PROBE = """<script>
window.__errors = [];
const _error = console.error;
console.error = (...a) => { window.__errors.push(a.join(' ')); _error(...a); };
window.addEventListener('error', e => window.__errors.push(String(e.message)));
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  // inside a box that scrolls sideways (a wide table) an element is reached by scrolling
  const scrolls = el => { for (let a = el.parentElement; a && a !== document.body;
                               a = a.parentElement) {
    if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return true; }
    return false; };
  const wide = Array.from(document.body.querySelectorAll('*'))
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !scrolls(el))
    .map(el => el.tagName + (el.id ? '#' + el.id : '')).slice(0, 10);
  const out = document.createElement('pre');
  out.id = 'browser-check';
  out.textContent = JSON.stringify({
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    wide: wide, errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""


def _browser():
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI: Chromium is required for the browser check (apt-get install chromium)")
        pytest.skip("Chromium not found: install it to run the browser check "
                    "(Debian/Ubuntu: sudo apt-get install chromium)")
    return found


def test_report_opens_in_a_browser_with_every_image_and_nothing_too_wide(tmp_path):
    browser = _browser()
    html = writer.write_report(*make_tables(), tmp_path / "rep").with_name("report.html")
    page = html.read_text()
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</head>", PROBE + "</head>", 1))
    out = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         probed.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', out.stdout, re.S)
    assert found, f"no findings in the page (rc {out.returncode}): {out.stderr[-2000:]}"
    check = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert check["images"] == page.count("<img") > 0
    assert check["broken"] == [], f"images that did not load: {check['broken']}"
    assert check["scrollWidth"] <= check["innerWidth"], f"wider than the window: {check}"
    assert check["wide"] == [], f"elements past the window's right edge: {check['wide']}"
    assert check["errors"] == [], f"console errors: {check['errors']}"
