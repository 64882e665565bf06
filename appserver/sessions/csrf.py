"""
Cross-site request forgery protection for forms, costing the server
nothing for visitors without a session.

A visitor whose session is stored gets the session's own secret token (the
synchronizer token pattern), kept in the session. Anyone else — every
anonymous page view — gets a token signed with the session secret over a
random nonce that the browser keeps in a C{csrf} cookie (C{__Host-csrf}
over TLS; HttpOnly, SameSite=Lax): a signed double-submit cookie, checked
by recomputing the signature, so nothing is stored until the visitor has a
session. Once the session holds its own token, only that one passes (a
form opened before then must be reloaded).

In a template: C{<input type="hidden" name="csrf_token" value="...">} with
the value of L{csrfToken}; in the controller that handles the POST::

    session = await getSession(request)
    if not checkCsrfToken(request, session, tokenFromRequest(request)):
        ...  # answer 403
"""

import base64
import hmac
import re
import secrets

from twisted.web.server import Request

from appserver.sessions.interfaces import ISessionManager
from appserver.sessions.session import Session
from appserver.web.helpers import formField

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "CSRF_COOKIE", "csrfToken", "checkCsrfToken",
           "tokenFromRequest"]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
CSRF_COOKIE = "csrf"
_KEY = "_csrf"
_NONCE = "_appserverCsrfNonce"
_NONCE_FORMAT = re.compile(rb"[A-Za-z0-9_-]{22}\Z")
_PURPOSE = b"appserver csrf token\0"


def _hasSession(session):
    """
    Whether C{session} is stored, or will be when the request ends: it
    holds data, or was loaded and keeps its id.
    """
    return len(session) > 0 or not session.hasNewId


def _secrets(request):
    signer = getattr(ISessionManager(request, None), "signer", None)
    if signer is None:
        raise RuntimeError("CSRF tokens are signed with the session secrets, which are not "
                           "loaded; start the sessions service")
    return signer.secrets


def _sign(secret, nonce):
    digest = hmac.digest(secret, _PURPOSE + nonce, "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=")


def _cookieName(request):
    return ("__Host-" if request.isSecure() else "") + CSRF_COOKIE


def _nonce(request):
    """
    The nonce of the browser's CSRF cookie (or the one set on this
    response), or L{None}.
    """
    nonce = request.__dict__.get(_NONCE)
    if nonce is None:
        nonce = request.getCookie(_cookieName(request).encode("ascii"))
    if nonce is None or not _NONCE_FORMAT.match(nonce):
        return None
    return nonce


def _newNonce(request):
    nonce = request.__dict__[_NONCE] = secrets.token_urlsafe(16).encode("ascii")
    request.addCookie(_cookieName(request).encode("ascii"), nonce, path=b"/",
                      secure=request.isSecure() or None, httpOnly=True, sameSite="lax")
    if not request.responseHeaders.hasHeader(b"cache-control"):
        request.responseHeaders.setRawHeaders(b"cache-control", [b"private, no-store"])
    return nonce


def csrfToken(request: Request, session: Session) -> str:
    """
    The CSRF token to put in a form of C{request}'s page: C{session}'s own
    token if the visitor has a session (made and stored in it on first
    use), else the signed token of the browser's CSRF cookie, which is set
    on this response if the browser has none.

    @raise RuntimeError: if the session secrets are not loaded.
    """
    if _hasSession(session):
        token = session.get(_KEY)
        if not isinstance(token, str):
            token = session[_KEY] = secrets.token_urlsafe(32)
        return token
    secret = _secrets(request)[0]
    return _sign(secret, _nonce(request) or _newNonce(request)).decode("ascii")


def checkCsrfToken(request: Request, session: Session, token: str | bytes | None) -> bool:
    """
    Whether C{token} (str or bytes, or L{None}) is the token L{csrfToken}
    gave this visitor: C{session}'s own once it has one, else one signed
    (with any of the secrets) over the nonce of the browser's CSRF cookie.
    Compared in constant time.
    """
    if token is None:
        return False
    if isinstance(token, str):
        token = token.encode("utf-8", "replace")
    expected = session.get(_KEY)
    if isinstance(expected, str):
        return hmac.compare_digest(expected.encode("ascii"), token)
    nonce = _nonce(request)
    if nonce is None:
        return False
    valid = False
    for secret in _secrets(request):
        valid |= hmac.compare_digest(_sign(secret, nonce), token)
    return valid


def tokenFromRequest(request: Request) -> str | bytes | None:
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
