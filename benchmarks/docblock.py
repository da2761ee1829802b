"""Number blocks of the README and docs/, written by the scripts that measure them.

A block is the text between two HTML comments in a Markdown file::

    <!-- begin: benchmarks/suite.py -->
    Command: `python benchmarks/suite.py` · Date: 2026-12-07 07:10 UTC · Machine: AMD EPYC, 2 cores (load 1.2 at the start)

    ```text
    ... what the script printed ...
    ```
    <!-- end -->

The source after ``begin:`` is the script's path from the repository root, optionally
with ``#key`` when one script writes several blocks (``benchmarks/infer.py#holdout``).
A script given ``--doc FILE`` (``add_argument``) records what it prints and, once it has
finished without error, replaces its block in ``FILE`` (``recorded``); a file without the
block's markers is refused, naming the markers, and left as it was. So no number in the
docs is typed by hand, and each block says the command, date and machine it came from.
``tests/test_docs.py`` checks that every number block has its markers, a source script
that exists and this header.

A block whose numbers were typed by hand before they were generated says so in its date
(``Date: stale, recorded by hand ...``) until its command is rerun. What to rerun::

    python benchmarks/docblock.py [FILE ...]      # default: README.md and docs/*.md

prints, per stale block, the command that regenerates it (its header's command with
``--doc FILE``), and nothing when every block is generated.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# a block: its begin marker (source script, optional #key), its text, its end marker
BLOCK = re.compile(r"<!-- begin: (?P<source>[^\s#]+)(?:#(?P<key>[\w-]+))? -->\n"
                   r"(?P<body>.*?)<!-- end -->", re.S)
# the first line of a block's text: what ran, when and where
HEADER = re.compile(r"^Command: `(?P<command>[^`]+)` · "
                    r"Date: (?P<date>[^·]*\d{4}-\d\d-\d\d[^·]*) · Machine: (?P<machine>.+)$", re.M)


# the date of a block a script wrote, and of one typed by hand before blocks were generated
GENERATED = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
STALE = "stale, recorded by hand"
PAGES = ("README.md", "docs/*.md")


def stale_blocks(paths):
    """``(path, source, key, command)`` of every block of the Markdown files ``paths``
    whose header dates it ``stale, recorded by hand``, in file order."""
    for path in paths:
        for m in BLOCK.finditer(Path(path).read_text(encoding="utf-8")):
            head = HEADER.match(m.group("body"))
            if head and head.group("date").startswith(STALE):
                yield path, m.group("source"), m.group("key"), head.group("command")


def machine():
    """'AMD EPYC, 2 cores (load 1.2 at the start)': the CPU model (``/proc/cpuinfo``, else
    ``platform.processor()``), the cores this process may use and the 1-minute load."""
    import platform

    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = f" (load {os.getloadavg()[0]:.1f} at the start)" if hasattr(os, "getloadavg") else ""
    return f"{model}, {cores} cores{load}"


def header(command, when=None, where=None):
    """A block's first line: ``Command: `...` · Date: ... UTC · Machine: ...``."""
    when = when or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"Command: `{command}` · Date: {when} · Machine: {where or machine()}"


def command_line(argv=None):
    """``python benchmarks/NAME.py ARGS``: how the running script was started, its
    ``--doc`` option left out."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve()
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    rest, skip = [], False
    for arg in argv[1:]:
        if skip:
            skip = False
        elif arg == "--doc":
            skip = True
        elif not arg.startswith("--doc="):
            rest.append(arg)
    backend = os.environ.get("KERAS_BACKEND")    # the backend is part of what ran
    return " ".join([f"KERAS_BACKEND={backend}"] * bool(backend) + ["python", str(shown), *rest])


def marker(source, key=None):
    return f"<!-- begin: {source}{'#' + key if key else ''} -->"


def replace_block(text, source, key, body):
    """``text`` with the block of ``source`` (and ``key``) holding ``body``; ValueError
    naming the marker when the text has no such block."""
    for m in BLOCK.finditer(text):
        if m.group("source") == source and m.group("key") == key:
            return text[:m.start("body")] + body.rstrip("\n") + "\n" + text[m.end("body"):]
    raise ValueError(f"Expected a block {marker(source, key)} ... <!-- end --> in the document "
                     f"(add the two markers where the numbers go). Received: no such block")


def write_block(doc, source, body, key=None, command=None, where=None):
    """Replace the block of ``source`` in the Markdown file ``doc`` by the header and
    ``body`` (Markdown); ``where``: the machine as ``machine()`` read it when the
    measuring began (default: now). Written atomically; a missing file or block is an
    error and nothing is written. Returns the path."""
    from recipes.files import atomic_write

    doc = Path(doc)
    if not doc.is_file():
        raise FileNotFoundError(f"No document at {doc} (--doc names an existing Markdown file "
                                f"holding the block {marker(source, key)})")
    try:
        text = replace_block(doc.read_text(encoding="utf-8"), source, key,
                             header(command or command_line(), where=where) + "\n\n" + body)
    except ValueError as err:
        raise ValueError(f"{doc}: {err}") from None
    return atomic_write(doc, text)


def add_argument(parser):
    """Give a script's parser ``--doc FILE``."""
    parser.add_argument("--doc", metavar="FILE",
                        help="also write what this prints into its block of FILE (a Markdown "
                             "file holding the block's markers; see benchmarks/docblock.py)")


@contextlib.contextmanager
def recorded(doc, script, key=None, fence="text"):
    """Print as usual; with ``doc``, also keep what is printed and, when the body finishes
    without error, write it as the block of ``script`` (``__file__``) into ``doc``: in a
    ``fence`` code block, or as Markdown itself when ``fence`` is None. The block is
    checked first, so a wrong ``--doc`` fails before any measuring."""
    if not doc:
        yield
        return
    source = Path(script).resolve().relative_to(ROOT).as_posix()
    replace_block(Path(doc).read_text(encoding="utf-8"), source, key, "")   # fails early
    where = machine()                     # its load is the load when the measuring starts
    kept = io.StringIO()

    class Tee(io.TextIOBase):
        def write(self, s):
            kept.write(s)
            return sys.__stdout__.write(s)

        def flush(self):
            sys.__stdout__.flush()

    with contextlib.redirect_stdout(Tee()):
        yield
    text = kept.getvalue().rstrip("\n")
    write_block(doc, source, f"```{fence}\n{text}\n```" if fence else text, key, where=where)
    print(f"wrote the block {marker(source, key)} of {doc}", file=sys.stderr)


def main(argv=None):
    """Print the command that regenerates each stale block (see the module's doc)."""
    args = sys.argv[1:] if argv is None else argv
    paths = args or sorted(p.relative_to(ROOT).as_posix() for pattern in PAGES
                           for p in ROOT.glob(pattern))
    for path, source, key, command in stale_blocks(ROOT / p for p in paths):
        shown = Path(path).resolve()
        shown = shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown
        print(f"{shown}: {marker(source, key)}\n    {command} --doc {shown}")


if __name__ == "__main__":
    main()
