"""
The session server: a Redis-protocol-compatible, durable, bounded session
store (see L{services.sessionserver.service.SessionServerService}).
"""

from services.sessionserver.store import OutOfMemory, Store

__all__ = ["Store", "OutOfMemory"]
