"""The GraphQL API (Strawberry only): schema, types, permissions, errors, HTTP view."""
