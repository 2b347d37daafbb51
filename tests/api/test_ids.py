"""Opaque global ids (app.api.ids)."""

from __future__ import annotations

from tests.support.api import Api, error_code, operation


async def test_invalid_global_id_in_a_query(api: Api) -> None:
    assert error_code(await api.gql(operation("GetUser"), {"id": '{"$ne": null}'})) == "BAD_REQUEST"


def test_only_base64url_text_is_an_id() -> None:
    """A lenient decoder skips characters outside the alphabet, so an id with ESC or a line
    break inside would name a user and then be echoed back (bulk selectors) as sent."""
    from app.api.ids import decode_id, encode_id, split_node_id

    good = encode_id("User", "u00008")
    assert decode_id(good, "User") == "u00008" and split_node_id(good) == ("User", "u00008")
    assert decode_id(good + "=", "User") == "u00008"  # padding is fine
    for bad in (good[:4] + "\x1b\n!." + good[4:], good[:4] + " " + good[4:], good + "+", ""):
        assert decode_id(bad, "User") is None and split_node_id(bad) is None


async def test_a_bulk_selection_by_a_mangled_id_is_refused(api: Api) -> None:
    from app.api.ids import encode_id

    mangled = encode_id("User", "u00008")[:4] + "\x1b\n!." + encode_id("User", "u00008")[4:]
    body = await api.gql(operation("PreviewBulkReset"), {"selection": {"userIds": [mangled]}})
    assert error_code(body) == "BAD_REQUEST"
