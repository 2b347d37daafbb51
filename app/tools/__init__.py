"""Command-line tools that talk to a running confid over HTTP (soak)."""
