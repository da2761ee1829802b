"""Stage 2, models: a recipe as Keras code (``spec``, no TensorFlow) and as a built,
compiled Keras model or head (``build``, imports Keras)."""
