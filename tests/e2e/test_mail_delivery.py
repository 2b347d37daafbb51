"""A served confid (`python -m app`) configured like docker-compose's Mailpit path: plain
SMTP to a real server, a refusal retried by the worker its lifespan started."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
from aiosmtpd.controller import Controller

from app.api.ids import decode_id
from tests.support.api import ROOT, TOKENS, operation
from tests.support.mailserver import MailServer
from tests.support.served import free_port, running_confid

COMPOSE = ROOT / "docker-compose.yml"


def compose_environment() -> dict[str, str]:
    """The `confid` service's CONFID_* variables in docker-compose.yml."""
    text = COMPOSE.read_text(encoding="utf-8")
    service = text.split("\n  confid:\n", 1)[1].split("\n    secrets:", 1)[0]
    return dict(re.findall(r"^\s+(CONFID_\w+):\s*(\S.*)$", service, re.MULTILINE))


def test_every_variable_compose_sets_is_one_confid_reads() -> None:
    read = set(re.findall(r'"(CONFID_\w+)"', (ROOT / "app" / "settings.py").read_text()))
    env = compose_environment()
    assert {"CONFID_SMTP_HOST", "CONFID_SMTP_PORT", "CONFID_MAIL_FROM"} <= set(env)
    assert set(env) <= read, set(env) - read


def gql(base: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {TOKENS['admin']}"},
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_the_mailpit_path_sends_and_retries(tmp_path: Path) -> None:
    mail = MailServer(script=["421 4.3.2 not now"])  # each message: refused once, then taken
    controller = Controller(mail, hostname="127.0.0.1", port=free_port())
    controller.start()
    env = compose_environment()
    try:
        with running_confid(
            tmp_path,
            CONFID_SMTP_HOST="127.0.0.1",
            CONFID_SMTP_PORT=str(controller.port),
            CONFID_MAIL_FROM=env["CONFID_MAIL_FROM"],
            CONFID_EMAIL_RETRY_BASE_SECONDS="0",
            CONFID_EMAIL_POLL_SECONDS="0.05",
        ) as base:
            users = gql(base, operation("ListUsers"), {"first": 5})["users"]["edges"]
            user = next(e["node"] for e in users if e["node"]["audioConferencing"])
            sent = gql(base, operation("SendConferenceInfo"), {"input": {"userId": user["id"]}})
            note = sent["sendConferenceInfo"]["notification"]
            for _ in range(600):  # a guard against hanging, not a timing assertion
                listed = gql(base, operation("ListNotifications"), {"userId": user["id"]})
                now = next(e["node"] for e in listed["notifications"]["edges"]
                           if e["node"]["id"] == note["id"])  # fmt: skip
                if now["status"] != "RETRYING":
                    break
                time.sleep(0.05)
    finally:
        controller.stop()
    assert (note["status"], note["attempts"]) == ("RETRYING", 1)
    assert (now["status"], now["attempts"]) == ("SENT", 2)
    raw = decode_id(note["id"], "Notification")
    domain = env["CONFID_MAIL_FROM"].strip('"').rpartition("@")[2]
    assert mail.accepted_ids == [f"<{raw}@{domain}>"]
