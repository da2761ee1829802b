"""Checks on a drawn matplotlib figure: no text cut off by the figure's edge, no two
labels on top of each other.

``check_text(fig)`` draws the figure with the Agg renderer (the one the report's
PNGs come from), then takes the window extent of every visible, non-empty text
artist (titles, axis and tick labels, legend entries, annotations) and asserts

- each extent lies inside the figure (a clipped title or legend fails);
- no two extents overlap (colliding tick labels, a legend over a title fail).

A tolerance of ``slack`` pixels absorbs anti-aliasing at the edges.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text


def visible_texts(fig):
    """Every text artist the renderer actually drew, with its window extent.

    Drawn, not merely visible: an axis keeps tick labels for ticks beyond its view
    limits, visible but never drawn; so the texts are recorded as ``Text.draw`` renders
    them."""
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    drawn = []
    original = Text.draw

    def record(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    Text.draw = record
    try:
        fig.canvas.draw()
    finally:
        Text.draw = original
    renderer = fig.canvas.get_renderer()
    found = []
    for t in dict.fromkeys(drawn):
        box = t.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            found.append((t, box))
    return found


def check_text(fig, slack=1.0):
    """Assert every visible text lies inside ``fig`` and no two overlap; returns the count."""
    texts = visible_texts(fig)
    W, H = fig.bbox.width, fig.bbox.height
    outside = [(t.get_text(), tuple(round(v) for v in b.extents)) for t, b in texts
               if b.x0 < -slack or b.y0 < -slack or b.x1 > W + slack or b.y1 > H + slack]
    assert not outside, f"text outside the {W:.0f}x{H:.0f} figure: {outside}"
    clashes = []
    for i, (t1, b1) in enumerate(texts):
        for t2, b2 in texts[i + 1:]:
            if (min(b1.x1, b2.x1) - max(b1.x0, b2.x0) > slack
                    and min(b1.y1, b2.y1) - max(b1.y0, b2.y0) > slack):
                clashes.append((t1.get_text(), t2.get_text()))
    assert not clashes, f"overlapping labels: {clashes[:10]}"
    return len(texts)


# The report page's width in CSS pixels (document.CSS: body max-width 1200px); a figure
# wider than it is scaled down to it in the browser.
PAGE_WIDTH = 1200
# The smallest text a reader is asked to read, in CSS pixels, once the figure is scaled
# to the page.
MIN_TEXT_PX = 8


def text_px_at_page_width(fig, dpi=100, page=PAGE_WIDTH):
    """``[(text, height in CSS pixels)]`` of every drawn text of ``fig`` once its PNG
    (drawn at ``dpi``, as ``render.DPI``) is shown at most ``page`` pixels wide: the
    font size in pixels at ``dpi``, times the browser's scale ``page / width`` when the
    PNG is wider than the page."""
    fig.set_dpi(dpi)
    width = fig.get_figwidth() * dpi
    shrink = min(1.0, page / width)
    return [(t.get_text(), t.get_fontsize() * dpi / 72 * shrink)
            for t, _ in visible_texts(fig)]


def check_legible(fig, dpi=100, page=PAGE_WIDTH, minimum=MIN_TEXT_PX):
    """Assert no drawn text of ``fig`` is smaller than ``minimum`` CSS pixels at page
    width; returns the smallest size."""
    sizes = text_px_at_page_width(fig, dpi, page)
    small = sorted({(round(px, 1), text) for text, px in sizes if px < minimum})
    assert not small, (f"text below {minimum} px at {page} px page width "
                       f"(figure {fig.get_figwidth() * dpi:.0f} px wide): {small[:8]}")
    return min(px for _, px in sizes)
