"""
Hooks that run once a request's result is ready, before its response is
written: the place to save state (a session, say) that must be stored before
the client can send its next request.
"""

from twisted.internet import defer

__all__ = ["beforeResponse", "hasBeforeResponse", "discardBeforeResponse", "runBeforeResponse"]

_HOOKS = "_appserverBeforeResponse"


def beforeResponse(request, hook):
    """
    Call C{hook()} after the handler's result for C{request} is ready and
    before the response is written, in registration order. C{hook} may
    return a Deferred, which is waited for.
    """
    hooks = request.__dict__.setdefault(_HOOKS, [])
    hooks.append(hook)


def hasBeforeResponse(request):
    """
    Whether hooks are registered on C{request}: a cheap test that lets the
    response path skip L{runBeforeResponse} in the common case.
    """
    return _HOOKS in request.__dict__


def discardBeforeResponse(request):
    """
    Forget the hooks registered on C{request} without running them: the
    request failed, and what they would save should not be saved.
    """
    request.__dict__.pop(_HOOKS, None)


@defer.inlineCallbacks
def runBeforeResponse(request):
    """
    Run and forget the hooks registered on C{request}.

    @return: a Deferred that fires when every hook has run, or fails with the
        first hook's failure.
    """
    hooks = request.__dict__.pop(_HOOKS, [])
    for hook in hooks:
        yield hook()
