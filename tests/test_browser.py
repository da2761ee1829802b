"""The report in a real browser: headless Chromium opens a generated report.html and a
small script written into the page records, into the DOM that ``--dump-dom`` prints,
whether every image loaded, whether anything is wider than the window, and every
console error. Skipped, with how to install Chromium, where it is absent, except in CI
(``CI=true``), where it must run."""

import functools
import json
import os
import re
import shutil
import subprocess

import pytest

from test_report import make_tables
from recipes.reporting import writer
from recipes.reporting.render import Renderer

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


# --- the default report's first screen, as a new user sees it (#24) --------------------

WINDOW = (1280, 900)
# The report's figures as a reader sees them: no text below this many CSS pixels.
MIN_TEXT_PX = 8

# Runs in the page: where the first table's rows end, and each image's drawn width.
FIRST_SCREEN = """<script>
window.addEventListener('load', () => {
  const table = document.querySelector('table');
  const rows = table ? Array.from(table.querySelectorAll('tbody tr')) : [];
  const out = document.createElement('pre');
  out.id = 'first-screen';
  out.textContent = JSON.stringify({
    height: window.innerHeight, width: window.innerWidth,
    head: table ? Array.from(table.querySelectorAll('th')).map(th => th.textContent) : [],
    rows: rows.map(r => ({first: r.cells[0].textContent, why: r.cells[2].textContent,
                          bottom: r.getBoundingClientRect().bottom})),
    images: Array.from(document.images).map(i => ({natural: i.naturalWidth,
                                                   shown: i.getBoundingClientRect().width})),
    text: document.body.innerText});
  document.body.appendChild(out);
});
</script>"""


@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    """The default suite's report from tiny real runs: every bundled experiment, 3 seeds
    of 1 epoch on TensorFlow (a tuned one over 2 learning rates and 1 tuning seed), the
    report written with a renderer of the test's, whose plots are measured.
    The stacked trainer runs TensorFlow's plain graph, not XLA: for runs this small,
    XLA's compile of each configuration is most of the time (binary, 15 configurations,
    cold cache: 66 s with XLA, 8 s without) and changes nothing the report shows.
    Returns (report folder, {figure path: its smallest text in PNG pixels},
    {figure path: PNG bytes})."""
    import recipes
    from recipes.experiments import load_experiment, names
    from recipes.results.store import Store
    from recipes.training.stacked_tensorflow import TRAINER

    folder = tmp_path_factory.mktemp("default")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TRAINER, "jit", False)
        for name in names():
            exp = load_experiment(name)
            small = dict(seeds=3, epochs=1, backend=["tensorflow"])
            if exp.tune:
                small.update(tune_grid=(0.01, 0.1), tune_seeds=1)
            recipes.run(exp.with_options(**small), out=folder / "results", progress=False)
    results, runs = Store(folder / "results", create=False).history_and_runs()
    with _Measuring(folder / "smallest") as renderer:
        writer.write_report(results, runs, folder / "report", renderer=renderer, quiet=True)
        pngs = dict(renderer.done)
    return folder / "report", renderer.smallest(), pngs


def _measured(plot, out):
    """``plot``'s figure, set to write, as it is drawn, its smallest drawn text in pixels
    of the drawing (points * dpi / 72) to the file ``out``: the texts are recorded as
    ``Text.draw`` renders them (figure_checks.visible_texts) from now until the
    figure's draw ends (its ``draw_event``), in the process that draws it."""
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    fig = plot if isinstance(plot, Figure) else plot()
    drawn, original = [], Text.draw

    def record(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    def done(event):
        Text.draw = original
        px = min(t.get_fontsize() for t in drawn) * event.canvas.figure.dpi / 72
        out.write_text(repr(px))

    fig.canvas.mpl_connect("draw_event", done)
    Text.draw = record
    return fig


class _Measuring(Renderer):
    """The report's renderer (a worker process per core) that measures each figure's
    smallest text in the very draw that makes its PNG (``_measured``), so no figure is
    built or laid out twice; it reads no cache, so every figure is drawn."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder
        self.files = {}     # figure path -> the file its smallest text is written to
        self.given = {}     # figure path -> the plot submitted (before it is wrapped)

    def submit(self, path, plot, cache=None):
        with self.lock:     # a file per plot submitted (one may replace another's plot)
            if self.given.get(path) is plot:    # the same plot again: drawn once, as
                return                          # Renderer.submit does
            self.given[path] = plot
            self.folder.mkdir(exist_ok=True)
            out = self.folder / f"{sum(1 for _ in self.folder.iterdir())}.px"
            out.touch(exist_ok=False)
            self.files[path] = out
        super().submit(path, functools.partial(_measured, plot, out))

    def smallest(self):
        """{figure path: its smallest drawn text in pixels of its PNG}; ValueError for
        a figure whose draw wrote none."""
        return {path: float(out.read_text()) for path, out in self.files.items()}


def _open(browser, page, probe, tmp_path, *more):
    """Chromium on ``page`` with ``probe`` in its head, its window WINDOW's size (a
    screenshot is that size; the DOM's viewport is the window less its frame)."""
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</head>", probe + "</head>", 1))
    flags = [f if not f.startswith("--window-size") else f"--window-size={WINDOW[0]},{WINDOW[1]}"
             for f in FLAGS]
    return subprocess.run([browser, *flags, f"--user-data-dir={tmp_path / 'profile'}", *more,
                           probed.as_uri()], capture_output=True, text=True, timeout=180)


def test_the_default_report_s_first_screen_answers_the_question(tmp_path, default_report):
    """At 1280 x 900 the first screen holds every recipe-to-use row (one per problem
    type, with its measured why); the page holds no raw Markdown; and no figure's text,
    as the browser scales the figure to the page, is drawn below 8 px."""
    import base64

    browser = _browser()
    folder, smallest, pngs = default_report
    page = (folder / "report.html").read_text()
    assert "](" not in page and "**" not in page
    shot = tmp_path / "first-screen.png"
    # one launch: the screenshot, and the DOM with the probe's findings (appended at the
    # end of the page, far below the first screen)
    out = _open(browser, page, FIRST_SCREEN, tmp_path, f"--screenshot={shot}", "--dump-dom")
    assert shot.is_file(), out.stderr[-2000:]
    from PIL import Image
    with Image.open(shot) as im:
        assert im.size == WINDOW and len(im.getcolors(1 << 16) or range(1 << 16)) > 8
    found = re.search(r'<pre id="first-screen">(.*?)</pre>', out.stdout, re.S)
    assert found, f"no findings in the page (rc {out.returncode}): {out.stderr[-2000:]}"
    screen = json.loads(found.group(1).replace("&quot;", '"').replace("&lt;", "<")
                        .replace("&gt;", ">").replace("&amp;", "&"))
    assert screen["width"] == WINDOW[0]   # (the DOM's viewport is the window less its frame)
    assert screen["head"][:3] == ["problem", "recipe to use", "why (measured)"]
    problems = {r["first"] for r in screen["rows"]}
    assert {"binary", "multiclass", "multilabel", "regression", "count",
            "ordinal"} <= problems, problems
    assert all(len(r["why"]) > 20 for r in screen["rows"]), screen["rows"]
    late = [r for r in screen["rows"] if r["bottom"] > screen["height"]]
    assert not late, f"recipe-to-use rows below the first screen: {late}"
    assert "](" not in screen["text"] and "**" not in screen["text"]
    # each image as drawn: its PNG's smallest text, scaled as the browser scales the PNG
    srcs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    by_png = {png: path for path, png in pngs.items()}
    assert len(srcs) == len(screen["images"]) == len(smallest)
    small = []
    for src, img in zip(srcs, screen["images"]):
        path = by_png[base64.b64decode(src)]
        px = smallest[path] * img["shown"] / img["natural"]
        if px < MIN_TEXT_PX:
            small.append((path, round(px, 1)))
    assert not small, f"figures whose text is drawn below {MIN_TEXT_PX} px: {small}"
