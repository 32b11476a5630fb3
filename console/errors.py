"""Why a request is refused; app.py turns each into a page (or, for non-HTML clients, a JSON answer)."""

from __future__ import annotations

__all__ = ["ConsoleRefusal", "CsrfRefused", "Forbidden", "NoSuchRecord", "NotLoggedIn"]


class ConsoleRefusal(Exception):
    """A request the console refuses; `key` names the text shown (console.errors.*)."""

    status_code = 400
    key = "console.errors.bad_request"


class NotLoggedIn(ConsoleRefusal):
    """No valid session: a browser is sent to the login page, anything else gets 401."""

    status_code = 401
    key = "console.errors.login_needed"


class Forbidden(ConsoleRefusal):
    """Logged in, but the role does not allow this page or action."""

    status_code = 403
    key = "console.errors.forbidden"


class CsrfRefused(ConsoleRefusal):
    """A form sent without this session's CSRF token (an old tab, or another site posting on its behalf)."""

    status_code = 403
    key = "console.errors.csrf"


class NoSuchRecord(ConsoleRefusal):
    """No entry (or no such file of an entry) behind this address."""

    status_code = 404
    key = "console.errors.no_record"
