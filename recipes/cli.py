"""The ``recipes`` command line.

Each subcommand is a ``(help, add_arguments, run)`` entry of ``COMMANDS``.
Catalog commands (list, show, infer) never import TensorFlow; the others
import what they need inside their ``run`` function.
"""

from __future__ import annotations

import argparse
import difflib
import sys

from .catalog import ACTIVATIONS, Catalog, CatalogError, load_catalog


def _table(rows, columns):
    """Plain aligned text table."""
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    line = lambda cells: "  ".join(str(v).ljust(w) for v, w in zip(cells, widths)).rstrip()
    return "\n".join([line(columns), line("-" * w for w in widths)]
                     + [line(r[c] for c in columns) for r in rows])


# --- list -----------------------------------------------------------------

def _add_list(p):
    p.add_argument("--problem", help="only this problem type")


def _run_list(args, catalog: Catalog):
    rows = catalog.of(args.problem) if args.problem else catalog.recipes
    columns = ["problem", "name", "role", "activation", "loss", "from_logits", "encoding", "units"]
    print(_table([r.describe() for r in rows], columns))
    return 0


# --- show -----------------------------------------------------------------

def _add_show(p):
    p.add_argument("what", help="a recipe name or a problem type")
    p.add_argument("--n", type=int, help="problem size for the generated code (classes, labels, targets)")


def _describe(recipe):
    row = recipe.describe()
    keys = ["problem", "role", "activation", "loss", "from_logits", "encoding", "units",
            "metrics", "decoding", "target", "reference"]
    lo, hi = ACTIVATIONS[recipe.activation]
    lines = [f"{recipe.name}  ({recipe.role})", ""]
    lines += [f"  {k:<12} {row[k]}" for k in keys]
    lines += [f"  {'range':<12} outputs in [{lo:g}, {hi:g}]", "", f"  Why: {recipe.rationale}"]
    return "\n".join(lines)


def _run_show(args, catalog: Catalog):
    from .spec import keras_code

    if args.what in catalog.problems:
        recipe = catalog.select(args.what)
        print(f"Problem {args.what!r}: the recommended recipe is {recipe.name}.\n")
    elif args.what in catalog.names:
        recipe = catalog.get(args.what)
    else:
        known = catalog.problems + catalog.names
        close = difflib.get_close_matches(args.what, known, n=3)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise CatalogError(f"Expected a problem type {list(catalog.problems)} or a recipe name "
                           f"(see 'recipes list'). Received: {args.what!r}.{hint}")
    print(_describe(recipe))
    print("\nKeras code:\n")
    print("\n".join("    " + l if l else "" for l in keras_code(recipe, n=args.n).splitlines()))
    others = [r for r in catalog.of(recipe.problem) if r.name != recipe.name]
    if others:
        print(f"\nOther recipes for {recipe.problem!r}:")
        for r in others:
            print(f"  - {r.name} ({r.role}): {r.activation} + {r.loss}"
                  f"{' (from_logits)' if r.from_logits else ''}. {r.rationale}")
    return 0


COMMANDS = {
    "list": ("list the catalog's recipes", _add_list, _run_list),
    "show": ("show a recipe (or a problem's recommended recipe), its code and alternatives",
             _add_show, _run_show),
}


def parser():
    p = argparse.ArgumentParser(
        prog="recipes",
        description="Pair a network's output layer with its loss: catalog, experiments, reports.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_, add, _) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.add_argument("--catalog", metavar="PATH", help="a catalog CSV to use instead of the bundled one")
        add(sp)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        catalog = load_catalog(args.catalog)
        return COMMANDS[args.command][2](args, catalog)
    except (CatalogError, ValueError, FileNotFoundError) as err:
        print(f"recipes {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"recipes {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
