"""Use cases: the one place where store, domain and notify are combined."""
