"""Emails about conference IDs: rendering and transports."""
