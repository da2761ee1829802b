"""Pair a network's output layer with its loss: a catalog of recipes for Keras.

Catalog functions are imported eagerly and never import TensorFlow; the
Keras-facing functions (``build_model``, ``build_head``, ...) are imported on
first use.
"""

from .catalog.table import Catalog, CatalogError, Recipe, get, load_catalog, select

__all__ = ["Catalog", "CatalogError", "Recipe", "get", "load_catalog", "select"]
