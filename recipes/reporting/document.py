"""A document renderer: blocks in, Markdown and self-contained HTML out.

It knows nothing about recipes. A :class:`Document` is a list of blocks
(headings, paragraphs, bullet lists, tables, Markdown text, figures); each
block kind has one entry in ``FORMS`` giving its Markdown form and its HTML
form, so both renderings come from the same table. Figures are matplotlib
Figures (or functions returning one), drawn to PNG files for the Markdown and
embedded as ``data:`` URIs in the HTML, so the page needs nothing beside it; a
``render.Renderer`` draws them in worker processes, from the moment they are
added when the document is given one.

>>> doc = Document()
>>> doc.heading(1, "Title")
>>> doc.para("Some **bold** text.")
>>> print(doc.to_markdown(), end="")
# Title
<BLANKLINE>
Some **bold** text.
>>> doc.to_html("t").splitlines()[-3:-1]
['<h1>Title</h1>', '<p>Some <b>bold</b> text.</p>']
"""

from __future__ import annotations

import base64
import functools
import html
import math
import re
from typing import Callable, NamedTuple

import pandas as pd
from matplotlib.figure import Figure

from .render import Renderer, cores

__all__ = ["Document", "FORMS", "slugify"]


def slugify(text):
    """An anchor or file name: ``'exp / toy'`` -> ``'exp-toy'``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-").lower() or "x"


def _cell_text(x):
    """A table cell's text on one line ("" for a missing value)."""
    s = "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)
    return " ".join(s.split())


def _md_cell(x):
    return _cell_text(x).replace("|", "\\|")


def _markdown_table(df):
    if df is None or not len(df):
        return "_(none)_"
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _inline_html(text):
    t = html.escape(text)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    t = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", t)
    t = re.sub(r"\[([^\]]+)\]\((#[^)\s]*|https?://[^)\s]+)\)", r'<a href="\2">\1</a>', t)
    return t


def _pipe_cells(line):
    """The cells of a Markdown table row ``| a | b |`` (``\\|`` is a literal pipe)."""
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [c.strip().replace("\\|", "|") for c in cells]


def _pipe_table_html(rows):
    """A Markdown pipe table (header, ``|---|`` rule, rows) as an HTML table."""
    body = [r for r in rows if not re.fullmatch(r"\|?[\s:|-]+\|?", r)]
    head, rest = _pipe_cells(body[0]), [_pipe_cells(r) for r in body[1:]]
    th = "".join(f"<th>{_inline_html(c)}</th>" for c in head)
    trs = "".join("<tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in r) + "</tr>"
                  for r in rest)
    return f"<table class=\"tab\"><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _markdown_to_html(md):
    """A tiny Markdown subset for injected text: headings, lists, code, paragraphs."""
    out, para, items, rows, code = [], [], [], [], None

    def flush():
        if rows:
            out.append(_pipe_table_html(rows))
            rows.clear()
        if para:
            out.append(f"<p>{_inline_html(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in str(md).splitlines():
        if rows and not line.strip().startswith("|"):
            out.append(_pipe_table_html(rows))
            rows.clear()
        if code is not None:
            if line.strip().startswith("```"):
                out.append(f"<pre>{html.escape(chr(10).join(code))}</pre>")
                code = None
            else:
                code.append(line)
            continue
        s = line.strip()
        if s.startswith("```"):
            flush()
            code = []
        elif not s:
            flush()
        elif m := re.match(r"(#{1,6})\s+(.*)", s):
            flush()
            level = min(6, len(m.group(1)) + 2)
            out.append(f"<h{level}>{_inline_html(m.group(2))}</h{level}>")
        elif s.startswith(("- ", "* ")):
            if para:
                flush()
            items.append(s[2:])
        elif s.startswith("|"):
            if not rows:
                flush()
            rows.append(s)
            continue
        else:
            para.append(s)
    if code is not None:
        out.append(f"<pre>{html.escape(chr(10).join(code))}</pre>")
    flush()
    return "\n".join(out)


def _demote_headings(md, by=3):
    """Injected Markdown sits under level-3 headings: shift its headings down."""
    out, fence = [], False
    for line in str(md).splitlines():
        if line.strip().startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"(#{1,6})(\s.*)", line)):
            line = "#" * min(6, len(m.group(1)) + by) + m.group(2)
        out.append(line)
    return "\n".join(out)


def _frame_html(df):
    """A DataFrame as an HTML table whose cells are read as the Markdown table reads
    them: links, code and bold become HTML (``_inline_html``), never raw Markdown."""
    th = "".join(f"<th>{_inline_html(_cell_text(c))}</th>" for c in df.columns)
    trs = "".join("<tr>" + "".join(f"<td>{_inline_html(_cell_text(v))}</td>" for v in row)
                  + "</tr>" for row in df.itertuples(index=False))
    return f'<table class="tab"><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>'


def _table_html(df, caption):
    cap = f"<p class='caption'>{_inline_html(caption)}</p>" if caption else ""
    tab = _frame_html(df) if df is not None and len(df) else "<p><i>(none)</i></p>"
    return cap + tab


def _figure_html(title, png):
    data = base64.b64encode(png).decode("ascii")
    return (f"<figure><img alt=\"{html.escape(title)}\" src=\"data:image/png;base64,{data}\">"
            f"<figcaption>{html.escape(title)}</figcaption></figure>")


class Form(NamedTuple):
    """How one block kind is written: each function takes the block and the document's files."""

    markdown: Callable[[dict, dict], str]
    html: Callable[[dict, dict], str]


# block kind -> its Markdown form and its HTML form
FORMS = {
    "heading": Form(
        lambda b, files: "#" * b["level"] + " " + b["text"],
        lambda b, files: (f"<h{b['level']}{_anchor(b['anchor'])}>{_inline_html(b['text'])}"
                          f"</h{b['level']}>")),
    "paragraph": Form(
        lambda b, files: b["text"],
        lambda b, files: f"<p>{_inline_html(b['text'])}</p>"),
    "bullets": Form(
        lambda b, files: "\n".join(f"- {i}" for i in b["items"]),
        lambda b, files: "<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in b["items"])
        + "</ul>"),
    "table": Form(
        lambda b, files: (f"{b['caption']}\n\n" if b["caption"] else "")
        + _markdown_table(b["df"]),
        lambda b, files: _table_html(b["df"], b["caption"])),
    "markdown": Form(
        lambda b, files: _demote_headings(b["text"]),
        lambda b, files: _markdown_to_html(b["text"])),
    "figure": Form(
        lambda b, files: f"**{b['title']}**\n\n![{b['title']}]({b['path']})",
        lambda b, files: _figure_html(b["title"], files[b["path"]])),
}


def _anchor(anchor):
    return f' id="{html.escape(anchor)}"' if anchor else ""


class Document:
    """Blocks rendered to both Markdown (``to_markdown``) and HTML (``to_html``).

    ``renderer``: a ``render.Renderer`` that starts drawing each figure as it is added
    (by default the figures are drawn by ``render()``)."""

    def __init__(self, renderer=None):
        self.blocks = []  # dicts with a "kind" (a key of FORMS) and that kind's fields
        self.files = {}  # relative path -> bytes (the plot until render())
        self.renderer = renderer

    def _add(self, kind, **fields):
        self.blocks.append({"kind": kind, **fields})

    def heading(self, level, text, anchor=None):
        self._add("heading", level=level, text=text, anchor=anchor)

    def para(self, text):
        self._add("paragraph", text=text)

    def bullets(self, items):
        self._add("bullets", items=list(items))

    def table(self, df, caption=None):
        self._add("table", df=df, caption=caption)

    def markdown(self, text):
        """Markdown text placed under a level-3 heading: its own headings are demoted."""
        self._add("markdown", text=text)

    def figure(self, title, fig, name):
        """A figure: a matplotlib Figure, or a function returning one (drawn where the
        renderer draws: a ``functools.partial`` of a module-level function travels to a
        worker process as its numbers, and is cached by them)."""
        if not (isinstance(fig, Figure) or callable(fig)):
            raise TypeError(f"figure {title!r} is a {type(fig).__name__}, not a matplotlib "
                            f"Figure or a function returning one")
        path = f"figures/{name}.png"
        self.files[path] = fig  # drawn to PNG bytes by render()
        if self.renderer is not None:
            self.renderer.submit(path, fig)
        self._add("figure", title=title, path=path)

    def item(self, title, thing, name):
        """An injected section: a Figure (or a ``functools.partial`` returning one),
        Markdown text or a DataFrame."""
        if isinstance(thing, Figure) or isinstance(thing, functools.partial):
            self.figure(title, thing, name)
        elif isinstance(thing, str):
            self.heading(4, title)
            self.markdown(thing)
        elif isinstance(thing, pd.DataFrame):
            self.heading(4, title)
            self.table(thing)
        else:
            raise TypeError(f"section {title!r}: expected a Figure (or a functools.partial "
                            f"returning one), a Markdown string or a DataFrame, got "
                            f"{type(thing).__name__}")

    def figures(self):
        """The paths of the figures not yet drawn."""
        return [p for p, f in self.files.items() if not isinstance(f, bytes)]

    def render(self, progress=None):
        """Draw every figure to PNG (on every core when the document has no renderer of
        its own). ``progress``: called with each finished figure's path."""
        pending = {p: self.files[p] for p in self.figures()}
        renderer = self.renderer or Renderer(workers=min(len(pending), cores()))
        try:
            for path, plot in pending.items():
                renderer.submit(path, plot)
            pngs = renderer.results(progress)
        finally:
            if renderer is not self.renderer:
                renderer.close()
        self.files.update((p, pngs[p]) for p in pending)

    def to_markdown(self):
        return "\n\n".join(FORMS[b["kind"]].markdown(b, self.files) for b in self.blocks) + "\n"

    def to_html(self, title):
        """A self-contained page: the CSS inline, every figure embedded (call ``render`` first)."""
        body = [FORMS[b["kind"]].html(b, self.files) for b in self.blocks]
        return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n"
                + "\n".join(body) + "\n</body></html>\n")


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1200px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{border-bottom:1px solid #bbb;margin-top:2em}
table.tab{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1em;display:block;max-width:100%;overflow-x:auto}
table.tab th,table.tab td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
table.tab th{background:#f0f0f0}table.tab tr:nth-child(even) td{background:#fafafa}
figure{margin:1em 0}figure img{max-width:100%;height:auto}figcaption{font-size:0.85em;color:#555}
pre{background:#f6f6f6;padding:0.6em;overflow-x:auto;font-size:0.85em}
.caption{font-size:0.85em;color:#555;margin-bottom:0.2em}code{background:#f3f3f3;padding:0 3px}
"""
