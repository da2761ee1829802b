"""Stage 5, the report: statistics, words, figures, a document renderer and the writer."""
