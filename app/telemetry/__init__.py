"""Watching confid run: Prometheus metrics, the request log, the start-up banner.

The top of the layers, beside `app.main`: it implements the small hooks that lower layers
offer (`app.services.observer`, `app.store.timing`, `app.api.exchange`) and is handed
down from `create_app`; nothing below imports it.
"""
