"""
The demo's account page: a login by name alone (a demo: there is no
password), and "your sessions", each browser logged in as you, with a
button ending it, as OWASP ASVS 5.0 7.5.2 asks (a real application would
ask for the password again first).

Every form carries the CSRF token (L{appserver.sessions.csrf}), as the
quotes form does.
"""

import time

from appserver.sessions import (
    checkCsrfToken, csrfToken, getSession, revoke, revokeAll, sessionsOf, tokenFromRequest,
)
from appserver.web import Controller, Forbidden, SeeOther, formField, route

FLASH = "demo.flash"
MAX_NAME = 64


def validName(name):
    """
    A submitted user name, stripped.

    @raise ValueError: saying what is wrong.
    """
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise ValueError(f"A name is 1 to {MAX_NAME} printable characters.")
    return name


def shown(info):
    """
    The template's slots for one L{appserver.sessions.SessionInfo}.
    """
    def when(seconds):
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))

    return {"hash": info.idHash, "created": when(info.created), "seen": when(info.lastSeen),
            "address": info.address or "unknown", "agent": info.userAgent or "unknown"}


async def checkedSession(request):
    """
    The session of a form's request whose CSRF token is good.

    @raise Forbidden: if it is not.
    """
    session = await getSession(request)
    if not checkCsrfToken(request, session, tokenFromRequest(request)):
        raise Forbidden("This form has expired or came from another site; "
                        "reload the page and try again.")
    return session


class Account(Controller):
    """
    Log in, see and end your sessions, log out.
    """

    @route("/account")
    async def page(self, request):
        session = await getSession(request)
        user = session.user
        listed = [] if user is None else await sessionsOf(request, user)
        return self.template(
            "account.xml",
            flash=session.pop(FLASH, None),
            csrf=csrfToken(request, session),
            # A dict renders its section once, None leaves it out.
            anonymous={} if user is None else None,
            signedIn=None if user is None else {"user": user},
            current=[shown(info) for info in listed if info.current],
            others=[shown(info) for info in listed if not info.current],
        )

    @route("/login", methods=["POST"])
    async def login(self, request):
        session = await checkedSession(request)
        try:
            session.login(validName(formField(request, "name")))
        except ValueError as e:
            session[FLASH] = str(e)
        else:
            session[FLASH] = f"Logged in as {session.user}."
        return SeeOther("/account")

    @route("/logout", methods=["POST"])
    async def logout(self, request):
        session = await checkedSession(request)
        session.invalidate()
        session[FLASH] = "Logged out."
        return SeeOther("/account")

    @route("/account/revoke", methods=["POST"])
    async def revokeOne(self, request):
        session = await checkedSession(request)
        if session.user is not None:
            ended = await revoke(request, session.user, formField(request, "session") or "")
            session[FLASH] = "Session ended." if ended else "That session had already ended."
        return SeeOther("/account")

    @route("/account/revoke-others", methods=["POST"])
    async def revokeOthers(self, request):
        session = await checkedSession(request)
        if session.user is not None:
            ended = await revokeAll(request, session.user, keep=session)
            session[FLASH] = f"Ended {ended} other sessions."
        return SeeOther("/account")
