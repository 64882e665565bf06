"""
Session stores, and the C{--sessions} spec that picks one.
"""

from appserver.sessions.stores._spec import checkStoreSpec, storeFromSpec
from appserver.sessions.stores.files import FileSessionStore
from appserver.sessions.stores.memory import MemorySessionStore
from appserver.sessions.stores.redis import RedisSessionStore

__all__ = [
    "MemorySessionStore", "FileSessionStore", "RedisSessionStore", "storeFromSpec",
    "checkStoreSpec",
]
