"""
Cross-site request forgery protection for forms: a secret token per
session (the synchronizer token pattern), put in every form and compared in
constant time when the form comes back.

In a template: C{<input type="hidden" name="csrf_token" value="...">} with
the value of L{csrfToken}; in the controller that handles the POST::

    session = await getSession(request)
    if not checkCsrfToken(session, tokenFromRequest(request)):
        ...  # answer 403
"""

import hmac
import secrets

from appserver.web.helpers import formField

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "csrfToken", "checkCsrfToken", "tokenFromRequest"]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
_KEY = "_csrf"


def csrfToken(session):
    """
    The CSRF token of C{session}, made (and stored in it) on first use.
    """
    token = session.get(_KEY)
    if not isinstance(token, str):
        token = session[_KEY] = secrets.token_urlsafe(32)
    return token


def checkCsrfToken(session, token):
    """
    Whether C{token} (str or bytes, or L{None}) is C{session}'s CSRF token.
    A session that never issued a token accepts nothing.
    """
    expected = session.get(_KEY)
    if not isinstance(expected, str) or token is None:
        return False
    if isinstance(token, str):
        token = token.encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode("ascii"), token)


def tokenFromRequest(request):
    """
    The token a request carries: the C{csrf_token} field of its form body,
    else the C{X-CSRF-Token} header, else L{None}. A token in the query
    string is never taken: URLs end up in logs, history and C{Referer}
    headers.
    """
    token = formField(request, CSRF_FIELD)
    if token is not None:
        return token
    return request.getHeader(CSRF_HEADER)
