"""Pure domain rules of confid: no database, no web framework."""
