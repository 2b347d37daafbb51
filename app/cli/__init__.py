"""`confid`: the command line for a running confid, over GraphQL and HTTP only.

One module per command group (users, conference IDs, audit, ...); `main` assembles them.
The CLI never imports the services or the store: it is a client like any other.
"""
