"""Offline tools for auditors: verify an export with no database, download exports, keys."""
