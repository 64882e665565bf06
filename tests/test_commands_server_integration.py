"""
Integration tests: redis-py against a real C{twistd session-server} for
CLIENT INFO/LIST/KILL, INFO's sections and CONFIG SET taking effect, and
CLIENT INFO's fields against a real redis-server 7.
"""

import socket

import redis

from services.sessionserver import table

from tests.support import requireService
from tests.test_sessionserver_integration import TIMEOUT, SessionServerTestCase


class ClientIntrospectionTests(SessionServerTestCase):
    """
    redis-py's client_info(), client_list(), client_kill_filter() and info().
    """

    def setUp(self):
        self.startServer()

    def test_clientInfo(self):
        """client_info() parses our reply (it raised KeyError: 'idle' before), in RESP2 and 3."""
        for protocol in (2, 3):
            connection = self.client(protocol=protocol)
            connection.client_setname(f"p{protocol}")
            info = connection.client_info()
            self.assertEqual((info["name"], info["db"], info["resp"], info["user"]),
                             (f"p{protocol}", 0, str(protocol), "default"))
            self.assertEqual(info["laddr"], f"127.0.0.1:{self.port}")
            self.assertIsInstance(info["idle"], int)
            self.assertIsInstance(info["age"], int)
            self.assertEqual(info["cmd"], "client|info")

    def test_clientListAndKill(self):
        """client_list() shows both connections; killing the other by id closes it."""
        mine = self.client()
        other = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
        self.addCleanup(other.close)
        other.sendall(b"CLIENT ID\r\n")
        otherId = int(other.recv(100).strip(b":\r\n"))
        self.assertEqual(sorted(int(c["id"]) for c in mine.client_list()),
                         sorted([mine.client_id(), otherId]))
        self.assertEqual(mine.client_kill_filter(_id=otherId), 1)
        self.assertEqual(other.recv(100), b"")
        self.assertEqual([int(c["id"]) for c in mine.client_list()], [mine.client_id()])

    def test_infoSections(self):
        """info() parses every section; default leaves commandstats out, everything has it."""
        connection = self.client()
        connection.set("k", "v")
        default = connection.info()
        self.assertEqual((default["role"], default["connected_slaves"],
                          default["cluster_enabled"], default["mem_allocator"]),
                         ("master", 0, 0, "pymalloc"))
        self.assertEqual(default["db0"]["keys"], 1)
        self.assertNotIn("cmdstat_set", default)
        everything = connection.info("everything")
        self.assertEqual(everything["cmdstat_set"]["calls"], 1)
        self.assertIn("used_cpu_user", connection.info("cpu"))


    def test_commandTable(self):
        """redis-py's command(), command_count() and command_getkeys() read our table."""
        for protocol in (2, 3):
            connection = self.client(protocol=protocol)
            self.assertEqual(set(connection.command()),
                             {name.decode() for name in table.COMMANDS})
            self.assertEqual(connection.command_count(), len(table.COMMANDS))
            self.assertEqual([str(key, "ascii") if isinstance(key, bytes) else key
                              for key in connection.command_getkeys("MSET", "a", 1, "b", 2)],
                             ["a", "b"])


class ConfigSetTests(SessionServerTestCase):
    """
    CONFIG SET through redis-py takes effect on a running server.
    """

    def setUp(self):
        self.startServer()

    def test_maxmemory(self):
        """config_set('maxmemory', '10mb') reads back in bytes; a full server refuses writes."""
        connection = self.client()
        self.assertTrue(connection.config_set("maxmemory", "10mb"))
        self.assertEqual(connection.config_get("maxmemory"), {"maxmemory": "10485760"})
        self.assertEqual(connection.info("memory")["maxmemory"], 10485760)
        connection.set("k", "v")
        connection.config_set("maxmemory-policy", "noeviction")
        connection.config_set("maxmemory", "1")
        with self.assertRaises(redis.exceptions.OutOfMemoryError):
            connection.set("other", "v")
        self.assertEqual(connection.get("k"), b"v")

    def test_requirepass(self):
        """After CONFIG SET requirepass new connections must AUTH; the setter's stays in."""
        connection = self.client()
        self.assertTrue(connection.config_set("requirepass", "s3cret"))
        with self.assertRaises(redis.exceptions.AuthenticationError):
            self.client().ping()
        self.assertTrue(self.client(password="s3cret").ping())
        self.assertTrue(connection.ping())


class AgainstRedisTests(SessionServerTestCase):
    """
    CLIENT INFO's fields match a real redis-server 7's.
    """

    def setUp(self):
        requireService("Redis", "127.0.0.1", 6379)
        self.startServer()

    def test_sameFields(self):
        """Every field Redis prints, we print, in Redis's order."""
        ours = list(self.client().client_info())
        real = redis.Redis(port=6379, socket_timeout=TIMEOUT)
        self.addCleanup(real.close)
        theirs = list(real.client_info())
        self.assertEqual([name for name in ours if name in theirs], theirs)

