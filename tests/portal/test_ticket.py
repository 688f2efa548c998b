"""The portal's ticket, pure (issue 27): which answers are its refusal, which headers of a
ticket's JSON are sent, and a clear error for a ticket that is none."""

import json

import pytest

from feeds.portal.ticket import MAX_HEADERS, BadTicket, is_not_allowed, ticket_headers


@pytest.mark.parametrize(
    ("status", "body", "refused"),
    [
        (400, b'{"error":"notAllowed"}', True),
        (401, b'{"error":"notAllowed"}', True),
        (403, b'{"error": "notAllowed", "message": "ticket"}', True),
        (400, b'{"error":"badRequest"}', False),  # a plain 400: the item's, as before
        (404, b'{"error":"notAllowed"}', False),
        (200, b'{"error":"notAllowed"}', False),
    ],
)
def test_only_a_400_401_or_403_saying_not_allowed_is_the_refusal(
    status: int, body: bytes, refused: bool
) -> None:
    assert is_not_allowed(status, body) is refused


def test_a_ticket_gives_its_string_headers_and_never_ones_that_change_whom_we_ask() -> None:
    payload = {
        "X-Portal-Sign": "sig-1",
        "x-request-key": "abc",
        "Host": "evil.example",
        "cookie": "stolen=1",
        "Authorization": "Bearer x",
        "User-Agent": "Mozilla/5.0",
        "Connection": "close",
        "Transfer-Encoding": "chunked",
        "X-Bad\r\nX-Injected": "1",
        "X-Split": "a\r\nX-Injected: 1",
        "X-Count": 5,
        "X-None": None,
    }
    assert ticket_headers(json.dumps(payload).encode()) == {
        "X-Portal-Sign": "sig-1",
        "x-request-key": "abc",
    }
    assert ticket_headers(b"") == {}  # a ticket of cookies alone


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"<html>busy</html>", "not JSON (JSONDecodeError)"),
        (b"[1, 2]", "JSON list, not an object"),
        (
            json.dumps({f"X-H{i}": "v" for i in range(MAX_HEADERS + 1)}).encode(),
            "more than 32 headers or 4096 bytes",
        ),
        (
            json.dumps({"X-A": "v" * 3000, "X-B": "v" * 3000}).encode(),
            "more than 32 headers or 4096 bytes",
        ),
    ],
)
def test_a_ticket_that_is_none_is_a_clear_error(payload: bytes, message: str) -> None:
    with pytest.raises(BadTicket) as error:
        ticket_headers(payload)
    assert str(error.value) == message
