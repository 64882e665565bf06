"""
Hooks that run once a request's result is ready, before its response is
written: the place to save state (a session, say) that must be stored before
the client can send its next request.
"""

from collections.abc import Callable
from types import CoroutineType, GeneratorType
from typing import Any

from twisted.internet import defer
from twisted.web.server import Request

from appserver.web.eager import hasSucceeded, runEagerly

__all__ = ["beforeResponse", "hasBeforeResponse", "discardBeforeResponse", "runBeforeResponse",
           "runBeforeResponseEagerly"]

_HOOKS = "_appserverBeforeResponse"


def beforeResponse(request: Request, hook: Callable[[], Any]) -> None:
    """
    Call C{hook()} after the handler's result for C{request} is ready and
    before the response is written, in registration order. C{hook} may
    return a Deferred, which is waited for.
    """
    hooks = request.__dict__.setdefault(_HOOKS, [])
    hooks.append(hook)


def hasBeforeResponse(request: Request) -> bool:
    """
    Whether hooks are registered on C{request}: a cheap test that lets the
    response path skip L{runBeforeResponse} in the common case.
    """
    return _HOOKS in request.__dict__


def discardBeforeResponse(request: Request) -> None:
    """
    Forget the hooks registered on C{request} without running them: the
    request failed, and what they would save should not be saved.
    """
    request.__dict__.pop(_HOOKS, None)


def runBeforeResponse(request: Request) -> defer.Deferred[None]:
    """
    Run and forget the hooks registered on C{request}.

    @return: a Deferred that fires when every hook has run, or fails with the
        first hook's failure.
    """
    running = runBeforeResponseEagerly(request)
    return defer.succeed(None) if running is None else running


def runBeforeResponseEagerly(request: Request) -> defer.Deferred[None] | None:
    """
    Run and forget the hooks registered on C{request}, as
    L{runBeforeResponse} does, but without a Deferred when none is needed:
    a hook returning anything but a Deferred that has not fired yet (or a
    coroutine still waiting) is done with at once.

    @return: L{None} if every hook has run and none failed; else a Deferred
        that fires when the rest have run, or fails with the first hook's
        failure.
    """
    return _runFrom(request.__dict__.pop(_HOOKS, ()), 0)


def _runFrom(hooks, index):
    """
    Run C{hooks[index:]} in order until one must be waited for; see
    L{runBeforeResponseEagerly}.
    """
    for position in range(index, len(hooks)):
        try:
            result = hooks[position]()
            if isinstance(result, (CoroutineType, GeneratorType)):
                result = runEagerly(result)
        except BaseException:
            return defer.fail()
        if isinstance(result, defer.Deferred) and not hasSucceeded(result):
            return result.addCallback(_runAfter, hooks, position + 1)
    return None


def _runAfter(ignored, hooks, index):
    return _runFrom(hooks, index)
