"""Beside the flow: check a user's model, analyse gradients, draw loss surfaces.

One job per module, each imported on its own (this package imports nothing):

* ``check``: ``check_model``, a compiled Keras model against its labels;
* ``gradient``: ``gradients``, ``FORMULAS``, ``explain``, dL/dz at the output;
* ``surface``: ``loss_surface`` (C2) and ``c6_table`` (C6), as numbers;
* ``figures``: matplotlib Figures of those numbers (no pyplot);
* ``appendix``: the report's appendix built from the above.
"""
