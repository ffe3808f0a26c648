"""Real origin frameworks for the path-spelling corpus (tests/test_path_corpus.py)."""
