"""Stage 4, results: grids of runs, where they are trained, and the SQLite store."""
