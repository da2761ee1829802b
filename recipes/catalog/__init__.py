"""Stage 1, the catalog: recipes as data, label codecs, and problem-type inference.

No TensorFlow here: ``recipes list``, ``show`` and ``infer`` answer at once.
"""

from .table import Catalog, CatalogError, Recipe, as_catalog, get, load_catalog, select

__all__ = ["Catalog", "CatalogError", "Recipe", "as_catalog", "get", "load_catalog", "select"]
