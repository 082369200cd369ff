"""REST endpoints (FAB ModelRestApi). Each applies the same scope filter as the views."""
