"""Small helpers for the accounts tests: links in emails, forms posted like a browser would."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.factories import DEFAULT_PASSWORD

_LINK = re.compile(r"https?://[^\s<>\"']+")


def mails_to(outbox, address: str) -> list:
    return [mail for mail in outbox if address in mail.to]


def link_path(mail, fragment: str) -> str:
    """The path (and query) of the one link in the plain-text body that contains `fragment`."""
    links = {url for url in _LINK.findall(mail.body) if fragment in url}
    assert len(links) == 1, f"expected one {fragment!r} link in {mail.body!r}"
    url = urlsplit(links.pop())
    assert url.scheme == "http" and url.netloc == "localhost", "links in emails must be absolute"
    return url.path + (f"?{url.query}" if url.query else "")


def log_in(client, email: str, password: str = DEFAULT_PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def is_logged_in(client) -> bool:
    """What the user sees: the account page opens, instead of sending them to the login form."""
    response = client.get("/account")
    return response.status_code == 200


def text(response) -> str:
    return response.get_data(as_text=True)


_CSRF_TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')


def compared_text(response) -> str:
    """The page without its CSRF tokens, which carry the second they were signed: two answers
    that must look the same are compared on this."""
    return _CSRF_TOKEN.sub('name="csrf_token"', text(response))
