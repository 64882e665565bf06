"""
Hooks that run once a request's result is ready, before its response is
written: the place to save state (a session, say) that must be stored before
the client can send its next request.
"""

from twisted.internet import defer

__all__ = ["beforeResponse", "runBeforeResponse"]

_HOOKS = "_appserverBeforeResponse"


def beforeResponse(request, hook):
    """
    Call C{hook()} after the handler's result for C{request} is ready and
    before the response is written, in registration order. C{hook} may
    return a Deferred, which is waited for.
    """
    hooks = request.__dict__.setdefault(_HOOKS, [])
    hooks.append(hook)


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
