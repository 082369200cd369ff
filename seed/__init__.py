"""Data generators: ``demo`` (a small Qibin-like district); larger sets come with later issues."""
