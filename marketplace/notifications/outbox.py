"""Development mail backend: every message is written as an .eml file in MAIL_OUTBOX_DIR."""
from __future__ import annotations

import email
import email.policy
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from flask_mailman.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        folder = outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        for message in messages:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            (folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml").write_bytes(message.message().as_bytes())
        return len(messages)


def outbox_dir() -> Path:
    return Path(current_app.config["MAIL_OUTBOX_DIR"])


@dataclass
class StoredEmail:
    id: str
    date: str
    sent_at: datetime | None  # the Date header, shown in the reader's language
    to: str
    subject: str
    text: str
    links: list[str]


_LINK = re.compile(r"https?://[^\s<>\"')]+")


def read_outbox(limit: int = 100) -> list[StoredEmail]:
    """Newest first."""
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    result = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        part = parsed.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
        result.append(
            StoredEmail(
                id=path.stem,
                date=str(parsed["Date"] or ""),
                sent_at=getattr(parsed["Date"], "datetime", None),
                to=str(parsed["To"] or ""),
                subject=str(parsed["Subject"] or ""),
                text=text,
                links=_LINK.findall(text),
            )
        )
    return result
