"""
Running a coroutine eagerly: its first step runs at once, and only when it
waits for a result that is not there yet does a L{Deferred} take over.

Most coroutines of a web app await nothing, or only L{Deferred}s that have
already fired (a session loaded from memory): they finish in that first
step, without the cost of L{Deferred.fromCoroutine}. The others behave as
under L{Deferred.fromCoroutine}: every step runs in one copy of the caller's
C{contextvars} context, the failures of awaited L{Deferred}s are raised
inside the coroutine, and cancelling the L{Deferred} returned cancels what
the coroutine is waiting for.
"""

from collections.abc import Coroutine, Generator
from contextvars import copy_context
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

__all__ = ["runEagerly", "hasSucceeded"]


def hasSucceeded(deferred: Deferred[Any]) -> bool:
    """
    Whether C{deferred} already holds a result that is not a failure (read
    it from C{deferred.result}): it has fired and waits on no other
    L{Deferred}, the test C{await} makes before taking a result at once.
    """
    return (deferred.called and not deferred.paused
            and not isinstance(deferred.result, Failure))


def runEagerly(coroutine: Coroutine[Any, Any, Any] | Generator[Any, Any, Any]) -> Any:
    """
    Run C{coroutine} (or an C{inlineCallbacks}-style generator) until it
    finishes or waits for a result not yet available.

    @return: what it returned if it finished, else a L{Deferred} firing with
        what it returns (or failing with what it raises).
    @raise BaseException: what it raised, if it did so before waiting.
    """
    context = copy_context()
    try:
        awaited = context.run(coroutine.send, None)
    except StopIteration as done:
        return done.value
    return Deferred.fromCoroutine(_resume(coroutine, context, awaited))


def _resume(coroutine, context, awaited):
    """
    Drive C{coroutine}, which is waiting for C{awaited}, from
    L{Deferred.fromCoroutine}: yield what it waits for and pass the outcome
    back into it, in C{context}.
    """
    while True:
        try:
            try:
                result = yield awaited
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:
                awaited = context.run(coroutine.throw, error)
            else:
                awaited = context.run(coroutine.send, result)
        except StopIteration as done:
            return done.value
