"""Stage 5, the report: from tidy training histories to a report people can read.

The package is a pipeline; each module imports only those before it:

``formatting``
    How a metric's value is written (percentages, the same decimals side by side).
``stats``
    The statistics: learning curves, final values, goals, the summary, and
    ``effects``: each recipe against the recommended one per condition
    (bootstrap CIs, exact sign-flip p-values, margins of equivalence,
    outcomes); ``tuning``: a tuned comparison's learning-rate sensitivity and
    chosen rates. numpy and pandas only, no plotting.
``words``
    The claims table and the recipe to use (the report's first screen), tables
    as text (``summary_table``, ``effects_table``, ``margins_table``,
    ``tuning_table``) and verdict
    sentences (``verdict``), the fairness and methods notes.
``figures``
    The statistics' DataFrames drawn as matplotlib Figures (``plot_curves``,
    ``plot_final``, ``plot_paired``, ``plot_grad_norm``, ``plot_effects``,
    ``plot_condition_curves``, ``plot_tuning``).
``render``
    Figures to PNG bytes (``Renderer``): drawn in worker processes from the
    moment they are known, kept in a cache folder under a hash of the numbers
    and code they are drawn from (``plot_key``).
``document``
    A renderer that knows nothing about recipes: headings, paragraphs,
    tables, figures... to Markdown and to one self-contained HTML page.
``writer``
    The composition and the files: ``report`` (the front door, used by the
    ``recipes report`` and ``recipes run`` commands) and ``write_report``;
    what they compute is cached in ``OUT/cache``.

Importing this package, ``stats`` or ``words`` does not import matplotlib.
``recipes.report`` is ``writer.report``.
"""
