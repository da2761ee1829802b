"""Save a recipe's generated (untrained) model as a ``.keras`` file that
``keras.models.load_model`` loads in a process that never imported ``recipes``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..files import atomic_write


@dataclass(frozen=True)
class ModelExport:
    """What ``export_model`` wrote."""

    path: Path
    recipe: str
    compiled: bool
    portable: bool  # loads with plain keras.models.load_model, no `import recipes` first
    loss: str       # the loss as code, e.g. "keras.losses.Poisson()"
    note: str       # what a user should know about loading it


def export_model(recipe, input_shape, n_outputs, out, hidden=(32,), seed=0, optimizer="adam",
                 learning_rate=1e-3, output_scale=1.0, compiled=None, catalog=None):
    """Save the model ``build_model`` generates for ``recipe`` (untrained) as a ``.keras`` file.

    ``compiled=None`` (default): compiled with the recipe's loss, metrics and
    optimizer when Keras ships all of them, so the file loads compiled with
    plain ``keras.models.load_model`` in any process. A recipe whose loss is
    the project's own (``LogPoisson``, the logits form of Poisson) is saved
    uncompiled: Keras rebuilds a custom class only once it is registered,
    i.e. after ``import recipes.models.build``, so a compiled file would not load
    plainly; the returned note gives the compile call. ``compiled=True``
    saves it compiled anyway (load it after ``import recipes.models.build``);
    ``compiled=False`` never compiles.
    """
    from ..catalog.table import get
    from ..models.build import build_model
    from ..models.spec import call_code, loss_spec

    recipe = get(recipe, catalog)
    out = Path(out)
    if out.suffix != ".keras":
        raise ValueError(f"Expected a path ending in .keras. Received: out={str(out)!r}")
    spec = loss_spec(recipe)
    portable_loss = spec[0] == "keras.losses"
    compile_it = portable_loss if compiled is None else bool(compiled)
    model = build_model(recipe, input_shape, n_outputs, hidden=tuple(hidden), seed=seed,
                        optimizer=optimizer, learning_rate=learning_rate,
                        output_scale=output_scale, compile=compile_it)
    if compile_it:
        # optimizer variables now, so that loading does not warn that their count differs
        model.optimizer.build(model.trainable_variables)
    atomic_write(out, model.save)
    loss = call_code(*spec)
    portable = portable_loss or not compile_it
    if compile_it and portable_loss:
        note = "Compiled with the recipe's loss, metrics and optimizer; loads with plain keras.models.load_model."
    elif compile_it:
        note = (f"Compiled with {loss}, a class of this project: run `import recipes.models.build` "
                f"before keras.models.load_model, or pass compile=False to it.")
    elif portable_loss:
        note = f"Saved uncompiled; compile it with loss={loss}."
    else:
        note = (f"Saved uncompiled so that plain keras.models.load_model loads it ({loss} is a "
                f"class of this project, which Keras cannot rebuild unless `recipes.models` is "
                f"imported). To train it: import recipes.models.build, then compile as "
                f"`recipes show {recipe.name}` prints (loss={loss}).")
    return ModelExport(out, recipe.name, compile_it, portable, loss, note)
