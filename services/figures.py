"""
L{IServiceFigures}: how a service (or a part of one, such as a session
store) tells a status page its key figures.
"""

from typing import Any

from twisted.internet.address import UNIXAddress
from twisted.internet.interfaces import IListeningPort
from zope.interface import Interface

__all__ = ["IServiceFigures", "portAddress"]


class IServiceFigures(Interface):
    """
    Something that reports figures about itself: addresses, counters,
    settings, the last error.
    """

    def figures() -> dict[str, Any]:
        """
        The figures as a JSON-ready C{dict} (strings, numbers, booleans,
        L{None}, and lists and dicts of them).
        """


def portAddress(port: IListeningPort) -> str:
    """
    The address the listening C{port} is bound to, as text:
    C{tcp:127.0.0.1:8080} or C{unix:/path}.
    """
    host = port.getHost()
    if isinstance(host, UNIXAddress):
        name = host.name
        return f"unix:{name.decode() if isinstance(name, bytes) else name}"
    return f"{host.type.lower()}:{host.host}:{host.port}"
