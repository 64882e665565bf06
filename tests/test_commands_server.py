"""
Tests for the session server's run-time configuration and introspection:
CONFIG SET/GET/RESETSTAT, CLIENT INFO/LIST/KILL/NO-EVICT, INFO's sections
and COMMAND's view of the table, with Redis 7's replies and error texts.
"""

import os
import pickle

from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor, StringTransport
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver import table
from services.sessionserver.commands import Server
from services.sessionserver.protocol import RedisFactory
from services.resp import ReplyError, Status
from services.sessionserver.service import SessionServerService
from services.sessionserver.serverinfo import ALL_SECTIONS, DEFAULT_SECTIONS
from services.sessionserver.store import Store
from tests.support import tempDir
from tests.test_commands import CommandTestCase

REDIS_CLIENT_FIELDS = (
    "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem "
    "multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp lib-name lib-ver").split()
"""The fields of Redis 7.2's CLIENT LIST lines, in order."""


def fields(line):
    """
    The C{name=value} pairs of one CLIENT LIST line, in order.
    """
    return [tuple(pair.split("=", 1)) for pair in line.decode().strip("\n").split(" ")]


def infoFields(text):
    """
    The C{name: value} fields of an INFO text.
    """
    return dict(line.split(":", 1) for line in text.decode().split("\r\n")
                if line and not line.startswith("#"))


class ConfigSetTests(CommandTestCase):
    """
    CONFIG SET changes maxmemory, maxmemory-policy, requirepass and
    appendfsync at run time; CONFIG GET reports them.
    """

    def configGet(self, name):
        return self.run_("CONFIG", "GET", name)[name.encode()]

    def test_maxmemoryUnits(self):
        """maxmemory takes Redis's size units, in any case, and reads back in bytes."""
        for value, size in [("10mb", 10 * 1024 * 1024), ("1k", 1000), ("2KB", 2048),
                            ("3m", 3_000_000), ("1g", 10 ** 9), ("1Gb", 1024 ** 3),
                            ("5b", 5), ("0", 0), ("123", 123)]:
            self.assertEqual(self.run_("CONFIG", "SET", "maxmemory", value), Status("OK"))
            self.assertEqual(self.configGet("maxmemory"), str(size).encode(), value)
            self.assertEqual(self.store.maxmemory, size)

    def test_maxmemoryRefused(self):
        """A value that is not a size is refused with Redis's text and changes nothing."""
        for value in ("ten", "-1", "10tb", "1.5mb", ""):
            self.assertError("ERR CONFIG SET failed (possibly related to argument "
                             "'maxmemory') - argument must be a memory value",
                             "CONFIG", "SET", "maxmemory", value)
        self.assertEqual(self.store.maxmemory, 0)

    def test_maxmemoryEvictsAtOnce(self):
        """Lowering maxmemory evicts keys by the policy at once."""
        for i in range(10):
            self.run_("SET", f"k{i}", "v" * 100, "EX", 100)
        used = self.store.usedMemory
        self.run_("CONFIG", "SET", "maxmemory", str(used // 2))
        self.assertLessEqual(self.store.usedMemory, used // 2)
        self.assertEqual(self.run_("DBSIZE") + self.store.evictedKeys, 10)
        self.assertGreater(self.store.evictedKeys, 0)
        self.assertIn(f"evicted_keys:{self.store.evictedKeys}",
                      self.run_("INFO", "stats").decode())

    def test_maxmemoryTakesEffectOnWrites(self):
        """With noeviction, writes past the new maxmemory get OOM."""
        self.run_("SET", "a", "b")
        self.run_("CONFIG", "SET", "maxmemory-policy", "noeviction", "maxmemory", "1")
        self.assertError("OOM command not allowed when used memory > 'maxmemory'.",
                         "SET", "c", "d")
        self.assertEqual(self.run_("GET", "a"), b"b")

    def test_policyAllkeysLru(self):
        """Switching to allkeys-lru lets keys without an expiry be evicted, oldest use first."""
        for name in ("a", "b", "c"):
            self.run_("SET", name, "v" * 100)
        self.run_("CONFIG", "SET", "maxmemory-policy", "allkeys-lru", "maxmemory", "1gb")
        self.run_("GET", "a")
        self.assertEqual(self.configGet("maxmemory-policy"), b"allkeys-lru")
        self.run_("CONFIG", "SET", "maxmemory", str(self.store.usedMemory))
        self.run_("SET", "d", "v" * 100)
        self.assertEqual(self.store.evictedKeys, 1)
        self.assertEqual(self.run_("EXISTS", "a", "b", "c", "d"), 3)
        self.assertIsNone(self.run_("GET", "b"))

    def test_policyRefused(self):
        """An unknown policy is refused, listing the ones we have."""
        self.assertError("ERR CONFIG SET failed (possibly related to argument "
                         "'maxmemory-policy') - argument(s) must be one of the following: "
                         "noeviction, volatile-lru, allkeys-lru, volatile-ttl",
                         "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        self.assertEqual(self.store.policy, "volatile-lru")

    def test_requirepass(self):
        """After requirepass, new connections must AUTH; those already in stay in."""
        self.run_("CONFIG", "SET", "requirepass", "s3cret")
        self.assertEqual(self.configGet("requirepass"), b"s3cret")
        self.assertEqual(self.run_("PING"), Status("PONG"))
        newcomer = self.server.connect("127.0.0.1:2")
        self.assertEqual(self.run_("GET", "k", client=newcomer).args[0],
                         "NOAUTH Authentication required.")
        self.assertEqual(self.run_("AUTH", "wrong", client=newcomer).args[0],
                         "WRONGPASS invalid username-password pair or user is disabled.")
        self.assertEqual(self.run_("AUTH", "s3cret", client=newcomer), Status("OK"))
        self.assertIsNone(self.run_("GET", "k", client=newcomer))

    def test_requirepassEmpty(self):
        """An empty requirepass removes the password."""
        self.run_("CONFIG", "SET", "requirepass", "s3cret")
        self.run_("CONFIG", "SET", "requirepass", "")
        self.assertEqual(self.configGet("requirepass"), b"")
        self.assertIsNone(self.run_("GET", "k", client=self.server.connect("127.0.0.1:2")))

    def test_appendfsyncWithoutJournal(self):
        """Without a journal appendfsync is kept and reported, as Redis does with appendonly no."""
        self.assertEqual(self.configGet("appendfsync"), b"everysec")
        self.assertEqual(self.run_("CONFIG", "SET", "appendfsync", "ALWAYS"), Status("OK"))
        self.assertEqual(self.configGet("appendfsync"), b"always")
        self.assertError("ERR CONFIG SET failed (possibly related to argument "
                         "'appendfsync') - argument(s) must be one of the following: "
                         "always, everysec, no", "CONFIG", "SET", "appendfsync", "sometimes")

    def test_unknownParameter(self):
        """An unknown parameter gets Redis's text."""
        self.assertError("ERR Unknown option or number of arguments for CONFIG SET - "
                         "'no-such'", "CONFIG", "SET", "no-such", "1")

    def test_fixedParameters(self):
        """A fixed parameter accepts its current value only."""
        self.assertEqual(self.run_("CONFIG", "SET", "save", "", "appendonly", "no"),
                         Status("OK"))
        self.assertError("ERR CONFIG SET failed (possibly related to argument 'appendonly') "
                         "- can't set immutable config", "CONFIG", "SET", "appendonly", "yes")
        self.assertError("ERR CONFIG SET failed (possibly related to argument 'databases') "
                         "- can't set immutable config", "CONFIG", "SET", "databases", "16")

    def test_allOrNothing(self):
        """Several pairs apply together, or none does."""
        self.assertError("ERR CONFIG SET failed (possibly related to argument "
                         "'maxmemory-policy') - argument(s) must be one of the following: "
                         "noeviction, volatile-lru, allkeys-lru, volatile-ttl",
                         "CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "bad")
        self.assertEqual(self.store.maxmemory, 0)
        self.assertError("ERR CONFIG SET failed (possibly related to argument 'maxmemory') "
                         "- duplicate parameter",
                         "CONFIG", "SET", "maxmemory", "1", "MAXMEMORY", "2")
        self.assertEqual(self.run_("CONFIG", "SET", "maxmemory", "1mb", "appendfsync", "no"),
                         Status("OK"))
        self.assertEqual((self.store.maxmemory, self.server.fsync), (1024 * 1024, "no"))

    def test_shape(self):
        """A name without a value is a syntax error; too few arguments an arity error."""
        self.assertError("ERR syntax error", "CONFIG", "SET", "maxmemory", "1", "appendfsync")
        self.assertError("ERR wrong number of arguments for 'config|set' command",
                         "CONFIG", "SET", "maxmemory")

    def test_resetStat(self):
        """CONFIG RESETSTAT zeroes INFO's counters."""
        self.run_("SET", "k", "v")
        self.run_("GET", "k")
        self.run_("GET", "missing")
        self.run_("NOSUCH")
        self.assertEqual(self.run_("CONFIG", "RESETSTAT"), Status("OK"))
        stats = infoFields(self.run_("INFO", "stats"))
        self.assertEqual((stats["keyspace_hits"], stats["keyspace_misses"],
                          stats["total_error_replies"], stats["total_connections_received"]),
                         ("0", "0", "0", "0"))
        # INFO itself was counted after the reset.
        self.assertEqual(stats["total_commands_processed"], "1")
        self.assertEqual(list(infoFields(self.run_("INFO", "commandstats"))),
                         ["cmdstat_info"])
        self.assertEqual(self.run_("INFO", "errorstats"), b"# Errorstats\r\n")


class FsyncSwitchTests(SynchronousTestCase):
    """
    CONFIG SET appendfsync switches a running journal's policy.
    """

    def setUp(self):
        self.clock = Clock()
        self.service = SessionServerService(
            ports=[], journalPath=os.path.join(tempDir(self), "journal"), fsync="everysec",
            clock=self.clock, reactor=MemoryReactor())
        self.service.startService()
        self.addCleanup(self.service.stopService)
        self.server = self.service.server
        self.client = self.server.connect()
        self.journal = self.service.journal
        self.synced = []
        self.patch(self.journal, "sync", lambda: self.synced.append(self.journal.fsync))

    def run_(self, *args):
        return self.server.execute(self.client, [a.encode() for a in args])

    def test_switchToNo(self):
        """Under no, the once-a-second fsync stops; back under everysec it runs again."""
        self.assertEqual(self.run_("CONFIG", "SET", "appendfsync", "no"), Status("OK"))
        self.assertEqual((self.journal.fsync, self.service.fsync), ("no", "no"))
        self.clock.advance(3)
        self.assertEqual(self.synced, [])
        self.run_("CONFIG", "SET", "appendfsync", "everysec")
        self.clock.advance(1)
        self.assertEqual(self.synced, ["everysec"])

    def test_switchToAlways(self):
        """Switching to always fsyncs what was written before at once."""
        self.run_("CONFIG", "SET", "appendfsync", "always")
        self.assertEqual(self.synced, ["always"])
        self.assertEqual(self.run_("CONFIG", "GET", "appendfsync"),
                         {b"appendfsync": b"always"})


class FsyncPickleTests(SynchronousTestCase):
    """
    The fsync policy survives pickling, also from a pickle made before the
    server kept it.
    """

    def test_roundTrip(self):
        """A service pickled after CONFIG SET appendfsync loads with that policy."""
        service = SessionServerService(ports=[], fsync="everysec")
        service.server.setFsync("always")
        self.assertEqual(pickle.loads(pickle.dumps(service)).fsync, "always")

    def test_olderPickle(self):
        """A service pickled with its own fsync attribute gives it to the server."""
        service = SessionServerService(ports=[], fsync="no")
        state = service.__getstate__()
        state["fsync"] = state["server"].__dict__.pop("fsync")
        loaded = SessionServerService.__new__(SessionServerService)
        loaded.__setstate__(state)
        self.assertEqual((loaded.fsync, loaded.server.fsync), ("no", "no"))


class EvictionJournaledTests(SynchronousTestCase):
    """
    What lowering maxmemory evicts is journaled like any eviction.
    """

    def test_evictionsReplayed(self):
        """Keys CONFIG SET maxmemory evicted stay gone after a restart."""
        path = os.path.join(tempDir(self), "journal")
        service = SessionServerService(ports=[], journalPath=path, clock=Clock(),
                                       reactor=MemoryReactor())
        service.startService()
        server, client = service.server, service.server.connect()
        for i in range(10):
            server.execute(client, [b"SET", b"k%d" % i, b"v" * 100, b"EX", b"100"])
        server.execute(client, [b"CONFIG", b"SET", b"maxmemory", b"%d" % (
            service.store.usedMemory // 2)])
        server.commit()
        left = sorted(service.store.keys())
        service.stopService()
        self.assertLess(len(left), 10)
        again = SessionServerService(ports=[], journalPath=path, clock=Clock(),
                                     reactor=MemoryReactor())
        again.startService()
        self.addCleanup(again.stopService)
        self.assertEqual(sorted(again.store.keys()), left)


class UptimeTests(SynchronousTestCase):
    """
    INFO's uptime counts from the start of the service.
    """

    def test_uptime(self):
        """uptime_in_seconds counts from startService, not from the first connection."""
        clock = Clock()
        service = SessionServerService(ports=[], clock=clock, reactor=MemoryReactor())
        service.startService()
        self.addCleanup(service.stopService)
        clock.advance(90000)
        found = infoFields(service.server.execute(service.server.connect(), [b"INFO"]))
        self.assertEqual((found["uptime_in_seconds"], found["uptime_in_days"]), ("90000", "1"))


class ClientInfoTests(CommandTestCase):
    """
    CLIENT INFO and CLIENT LIST give Redis's fields.
    """

    def test_fields(self):
        """CLIENT INFO has Redis's fields in Redis's order, ending with a newline."""
        line = self.run_("CLIENT", "INFO")
        self.assertTrue(line.endswith(b"\n"))
        self.assertEqual([name for name, value in fields(line)], REDIS_CLIENT_FIELDS)
        values = dict(fields(line))
        self.assertEqual((values["id"], values["addr"], values["flags"], values["db"],
                          values["multi"], values["cmd"], values["user"], values["resp"]),
                         ("1", "127.0.0.1:1", "N", "0", "-1", "client|info", "default", "2"))

    def test_age(self):
        """age counts the seconds since the connection was made."""
        self.clock.advance(10)
        other = self.server.connect("127.0.0.1:2")
        self.clock.advance(3)
        values = dict(fields(self.run_("CLIENT", "LIST", "ID", "1")))
        self.assertEqual(values["age"], "13")
        values = dict(fields(self.run_("CLIENT", "INFO", client=other)))
        self.assertEqual(values["age"], "3")

    def test_multiFlag(self):
        """Inside MULTI the flags show x and multi counts the queued commands."""
        self.run_("CLIENT", "NO-EVICT", "on")
        self.run_("MULTI")
        self.run_("SET", "k", "v")
        self.run_("GET", "k")
        other = self.server.connect("127.0.0.1:2")
        values = dict(fields(self.run_("CLIENT", "LIST", "ID", "1", client=other)))
        self.assertEqual((values["flags"], values["multi"]), ("xe", "2"))

    def test_noEvict(self):
        """CLIENT NO-EVICT ON sets the e flag, OFF clears it; other values are syntax errors."""
        self.assertEqual(self.run_("CLIENT", "NO-EVICT", "on"), Status("OK"))
        self.assertEqual(dict(fields(self.run_("CLIENT", "INFO")))["flags"], "e")
        self.run_("CLIENT", "NO-EVICT", "OFF")
        self.assertEqual(dict(fields(self.run_("CLIENT", "INFO")))["flags"], "N")
        self.assertError("ERR syntax error", "CLIENT", "NO-EVICT", "maybe")

    def test_nameAndLib(self):
        """The name and library set by the client are shown."""
        self.run_("CLIENT", "SETNAME", "worker")
        self.run_("CLIENT", "SETINFO", "lib-name", "redis-py")
        values = dict(fields(self.run_("CLIENT", "INFO")))
        self.assertEqual((values["name"], values["lib-name"]), ("worker", "redis-py"))

    def test_listFilters(self):
        """CLIENT LIST takes TYPE and ID filters, with Redis's errors."""
        self.server.connect("127.0.0.1:2")

        def ids(reply):
            return [dict(fields(line))["id"] for line in reply.splitlines(True)]
        self.assertEqual(ids(self.run_("CLIENT", "LIST")), ["1", "2"])
        self.assertEqual(ids(self.run_("CLIENT", "LIST", "TYPE", "normal")), ["1", "2"])
        self.assertEqual(self.run_("CLIENT", "LIST", "TYPE", "pubsub"), b"")
        self.assertEqual(ids(self.run_("CLIENT", "LIST", "ID", "2", "9")), ["2"])
        self.assertError("ERR Unknown client type 'bogus'", "CLIENT", "LIST", "TYPE", "bogus")
        self.assertError("ERR Invalid client ID", "CLIENT", "LIST", "ID", "x")
        self.assertError("ERR syntax error", "CLIENT", "LIST", "bogus")


class ClientKillTests(CommandTestCase):
    """
    CLIENT KILL, in its old form and with filters.
    """

    def setUp(self):
        CommandTestCase.setUp(self)
        self.killed = []
        self.other = self.server.connect("127.0.0.2:5")
        self.other.localAddress = "127.0.0.1:7000"
        self.other.kill = lambda: self.killed.append(self.other.id)

    def test_oldForm(self):
        """CLIENT KILL addr closes that connection and answers OK, or No such client."""
        self.assertEqual(self.run_("CLIENT", "KILL", "127.0.0.2:5"), Status("OK"))
        self.assertEqual(self.killed, [2])
        self.assertNotIn(2, self.server.clients)
        self.assertError("ERR No such client", "CLIENT", "KILL", "127.0.0.2:5")

    def test_oldFormSelf(self):
        """The old form may name the caller, which is closed after the reply."""
        self.assertEqual(self.run_("CLIENT", "KILL", "127.0.0.1:1"), Status("OK"))
        self.assertTrue(self.client.closing)

    def test_filters(self):
        """ID, ADDR, LADDR, USER and TYPE select; the reply counts the killed."""
        for args in (["ID", "1"], ["ADDR", "127.0.0.3:1"], ["LADDR", "127.0.0.1:1"],
                     ["TYPE", "pubsub"]):
            self.assertEqual(self.run_("CLIENT", "KILL", *args), 0, args)
        self.assertEqual(self.killed, [])
        self.assertEqual(self.run_("CLIENT", "KILL", "LADDR", "127.0.0.1:7000",
                                   "ADDR", "127.0.0.2:5", "USER", "default"), 1)
        self.assertEqual(self.killed, [2])

    def test_skipme(self):
        """SKIPME yes (the default) spares the caller; SKIPME no does not."""
        self.assertEqual(self.run_("CLIENT", "KILL", "USER", "default"), 1)
        self.assertFalse(self.client.closing)
        self.assertEqual(self.run_("CLIENT", "KILL", "ID", "1", "SKIPME", "no"), 1)
        self.assertTrue(self.client.closing)

    def test_maxage(self):
        """MAXAGE kills the connections older than that many seconds."""
        self.clock.advance(20)
        young = self.server.connect("127.0.0.4:1")
        self.clock.advance(5)
        self.assertEqual(self.run_("CLIENT", "KILL", "MAXAGE", "10"), 1)
        self.assertEqual(self.killed, [2])
        self.assertIn(young.id, self.server.clients)

    def test_errors(self):
        """Bad filters get Redis's errors."""
        for text, args in [
                ("ERR client-id should be greater than 0", ["ID", "0"]),
                ("ERR client-id should be greater than 0", ["ID", "x"]),
                ("ERR Unknown client type 'x'", ["TYPE", "x"]),
                ("ERR No such user 'bob'", ["USER", "bob"]),
                ("ERR maxage is not an integer or out of range", ["MAXAGE", "x"]),
                ("ERR syntax error", ["SKIPME", "maybe"]),
                ("ERR syntax error", ["ID", "2", "SKIPME"]),
                ("ERR syntax error", ["NOSUCH", "1"])]:
            self.assertError(text, "CLIENT", "KILL", *args)
        self.assertEqual(self.killed, [])


class KillOverProtocolTests(SynchronousTestCase):
    """
    CLIENT KILL closes another client's real connection.
    """

    def test_killOther(self):
        """The other connection is closed and forgotten; the caller gets the count."""
        server = Server(Store(Clock()))
        factory = RedisFactory(server)
        transports = [StringTransport(), StringTransport()]
        protocols = [factory.buildProtocol(None) for t in transports]
        for protocol, transport in zip(protocols, transports, strict=True):
            protocol.makeConnection(transport)
        protocols[0].dataReceived(b"CLIENT KILL ID 2\r\n")
        self.assertEqual(transports[0].value(), b":1\r\n")
        self.assertTrue(transports[1].disconnecting)
        self.assertEqual(list(server.clients), [1])
        protocols[1].dataReceived(b"PING\r\n")
        self.assertEqual(transports[1].value(), b"")


class IdleOverProtocolTests(SynchronousTestCase):
    """
    CLIENT LIST's idle counts from the last bytes a connection received.
    """

    def test_idle(self):
        """idle is the seconds since the connection last sent something."""
        clock = Clock()
        factory = RedisFactory(Server(Store(clock)))
        protocols = [factory.buildProtocol(None) for i in range(2)]
        transports = [StringTransport(), StringTransport()]
        for protocol, transport in zip(protocols, transports, strict=True):
            protocol.makeConnection(transport)
        clock.advance(10)
        protocols[0].dataReceived(b"PING\r\n")
        clock.advance(3)
        protocols[1].dataReceived(b"CLIENT LIST\r\n")
        first, second = transports[1].value().split(b"\r\n")[1].split(b"\n")[:2]
        self.assertEqual([dict(fields(line))["idle"] for line in (first, second)], ["3", "0"])
        self.assertEqual(dict(fields(first))["cmd"], "ping")


class InfoTests(CommandTestCase):
    """
    INFO's sections and its default, all and everything arguments.
    """

    def sections(self, *args):
        text = self.run_("INFO", *args).decode()
        return [line[2:].lower() for line in text.split("\r\n") if line.startswith("# ")]

    def test_default(self):
        """INFO and INFO default give every section but commandstats, in Redis's order."""
        expected = ["server", "clients", "memory", "persistence", "stats", "replication",
                    "cpu", "modules", "errorstats", "cluster", "keyspace"]
        self.assertEqual(list(DEFAULT_SECTIONS), expected)
        self.assertEqual(self.sections(), expected)
        self.assertEqual(self.sections("default"), expected)

    def test_allAndEverything(self):
        """INFO all and everything add commandstats."""
        self.assertEqual(self.sections("all"), list(ALL_SECTIONS))
        self.assertEqual(self.sections("EVERYTHING"), list(ALL_SECTIONS))
        self.assertIn("commandstats", ALL_SECTIONS)

    def test_chosen(self):
        """Named sections combine, in Redis's order; unknown names add nothing."""
        self.assertEqual(self.sections("keyspace", "CPU"), ["cpu", "keyspace"])
        self.assertEqual(self.sections("default", "commandstats"), list(ALL_SECTIONS))
        self.assertEqual(self.run_("INFO", "nosuch"), b"")

    def test_fields(self):
        """The fields clients read are there, for a standalone master with no replicas."""
        found = infoFields(self.run_("INFO", "everything"))
        for name, value in [("role", "master"), ("connected_slaves", "0"),
                            ("cluster_enabled", "0"), ("mem_allocator", "pymalloc"),
                            ("redis_mode", "standalone"), ("maxmemory_policy", "volatile-lru"),
                            ("aof_enabled", "0"), ("connected_clients", "1")]:
            self.assertEqual(found[name], value, name)
        for name in ("used_cpu_sys", "used_cpu_user", "used_memory", "used_memory_rss",
                     "run_id", "master_replid", "uptime_in_seconds", "total_error_replies"):
            self.assertIn(name, found)
        self.assertEqual(len(found["run_id"]), 40)

    def test_commandStats(self):
        """commandstats counts calls, rejected calls and failed calls per command."""
        self.run_("SET", "k", "v")
        self.run_("GET", "k")
        self.run_("GET", "k")
        self.run_("GET")
        self.run_("INCR", "k")
        stats = infoFields(self.run_("INFO", "commandstats"))
        self.assertRegex(stats["cmdstat_get"], r"^calls=2,usec=\d+,usec_per_call=[\d.]+,"
                                               r"rejected_calls=1,failed_calls=0$")
        self.assertTrue(stats["cmdstat_incr"].endswith("rejected_calls=0,failed_calls=1"))

    def test_subcommandStats(self):
        """A container command's calls are counted per subcommand, as Redis 7 does."""
        self.run_("CONFIG", "GET", "save")
        self.run_("CONFIG", "SET", "nosuch", "1")
        self.run_("CLIENT", "NOSUCH")
        stats = infoFields(self.run_("INFO", "commandstats"))
        self.assertIn("calls=1,", stats["cmdstat_config|get"])
        self.assertTrue(stats["cmdstat_config|set"].endswith("failed_calls=1"))
        self.assertTrue(stats["cmdstat_client"].endswith("failed_calls=1"))

    def test_errorStats(self):
        """errorstats counts error replies by their code."""
        self.run_("NOSUCH")
        self.run_("GET")
        self.run_("SET", "k", "v")
        self.run_("INCR", "k")
        self.assertEqual(infoFields(self.run_("INFO", "errorstats")),
                         {"errorstat_ERR": "count=3"})
        self.assertEqual(infoFields(self.run_("INFO", "stats"))["total_error_replies"], "3")


class CommandIntrospectionTests(CommandTestCase):
    """
    COMMAND and its subcommands cover every row of the table.
    """

    def test_countAndList(self):
        """COMMAND COUNT and LIST follow the table."""
        self.assertEqual(self.run_("COMMAND", "COUNT"), len(table.COMMANDS))
        self.assertEqual(self.run_("COMMAND", "LIST"), sorted(table.COMMANDS))

    def test_everyRow(self):
        """COMMAND, COMMAND INFO and COMMAND DOCS describe every row."""
        names = sorted(table.COMMANDS)
        self.assertEqual([info[0] for info in self.run_("COMMAND")], names)
        self.assertEqual([info[0] for info in self.run_("COMMAND", "INFO", *names)], names)
        self.assertEqual(sorted(self.run_("COMMAND", "DOCS")), names)

    def test_subcommands(self):
        """COMMAND INFO and DOCS list a container's subcommands as name|sub."""
        info = self.run_("COMMAND", "INFO", "config")[0]
        self.assertEqual([sub[0] for sub in info[9]],
                         [b"config|get", b"config|help", b"config|resetstat", b"config|set"])
        self.assertEqual([sub[1] for sub in info[9]], [-3, 2, 2, -4])
        docs = self.run_("COMMAND", "DOCS", "client")[b"client"][b"subcommands"]
        self.assertEqual(docs[b"client|kill"][b"summary"],
                         b"Kill connections by address (old form) or by filters.")

    def test_getKeys(self):
        """COMMAND GETKEYS finds the keys by the table's key positions, with Redis's errors."""
        self.assertEqual(self.run_("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"),
                         [b"a", b"b"])
        self.assertEqual(self.run_("COMMAND", "GETKEYS", "SET", "a", "b", "EX", "10"), [b"a"])
        self.assertEqual(self.run_("COMMAND", "GETKEYS", "del", "a", "b", "c"),
                         [b"a", b"b", b"c"])
        for text, args in [("ERR Invalid command specified", ["nosuch", "a"]),
                           ("ERR The command has no key arguments", ["keys", "*"]),
                           ("ERR Invalid number of arguments specified for command",
                            ["get", "a", "b"]),
                           ("ERR wrong number of arguments for 'command|getkeys' command",
                            ["get"])]:
            self.assertError(text, "COMMAND", "GETKEYS", *args)

    def test_categories(self):
        """The ACL categories say read or write, the group, fast or slow."""
        get, = self.run_("COMMAND", "INFO", "get")
        self.assertEqual(get[6], ["@read", "@string", "@fast"])
        flushdb, = self.run_("COMMAND", "INFO", "flushdb")
        self.assertEqual(flushdb[6], ["@write", "@server", "@slow"])

    def test_unknownCommand(self):
        """A command not in the table gets Redis's exact error."""
        reply = self.run_("LPUSH", "list", "a")
        self.assertIsInstance(reply, ReplyError)
        self.assertEqual(reply.args[0], "ERR unknown command 'LPUSH', with args beginning "
                                        "with: 'list' 'a' ")
