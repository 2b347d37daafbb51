"""GraphQL over HTTP media types (app.api.media)."""

from __future__ import annotations

from tests.support.api import Api, error_code

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_graphql_response_json_answers_4xx_for_documents_never_executed(api: Api) -> None:
    """GraphQL over HTTP: with `Accept: application/graphql-response+json`, a document that
    does not parse or validate is a 400; once execution began it is a 200, as with
    `application/json`, which keeps its classic behaviour (200 for GraphQL errors)."""
    modern = {"Accept": GRAPHQL_RESPONSE}
    for document in ("{ viewer { name }", "{ viewer { nope } }", "{ ...Missing }"):
        answer = await api.post({"query": document}, headers=modern)
        assert answer.status_code == 400, document
        assert answer.headers["Content-Type"].startswith(GRAPHQL_RESPONSE)
        assert error_code(answer.json()) == "BAD_REQUEST"
        classic = await api.post({"query": document})
        assert classic.status_code == 200 and classic.headers["Content-Type"].startswith(
            "application/json"
        )
    executed = await api.post({"query": "{ auditEvents { totalCount } }"}, "helpdesk", modern)
    assert executed.status_code == 200 and error_code(executed.json()) == "FORBIDDEN"
    fine = await api.post({"query": "{ viewer { name } }"}, headers=modern)
    assert fine.status_code == 200 and fine.headers["Content-Type"].startswith(GRAPHQL_RESPONSE)
    both = await api.post(
        {"query": "{ nope }"}, headers={"Accept": f"application/json, {GRAPHQL_RESPONSE};q=0.5"}
    )
    assert both.status_code == 200  # application/json preferred: the classic answer
