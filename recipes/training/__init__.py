"""Stage 3, training: data sets and splits, training settings, the common metrics,
and the two trainers (plain Keras ``fit`` and the stacked trainer)."""
