"""
Tests for the session server's command table (L{services.sessionserver.table}):
an explicit list of every handler, grouped, that no import fills.
"""

import ast
import inspect

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver import (
    admin, connection, hashes, keyops, keyspace, sets, strings, table, transactions)
from services.sessionserver.commands import Server
from services.resp import ReplyError
from services.sessionserver.store import Store

HANDLER_MODULES = (keyspace, strings, keyops, connection, admin, transactions, hashes, sets)
GROUPS = {"string": table.STRINGS, "keyspace": table.KEYS, "connection": table.CONNECTION,
          "server": table.SERVER, "transactions": table.TRANSACTIONS,
          "hash": table.HASHES, "set": table.SETS}


def exposedHandlers(module):
    """
    The functions C{module} exports that take C{(server, client, args)}.
    """
    functions = (getattr(module, name) for name in module.__all__)
    return {function for function in functions if inspect.isfunction(function)
            and list(inspect.signature(function).parameters) == ["server", "client", "args"]}


class TableTests(SynchronousTestCase):
    """
    The table lists each handler once, by group, under its own name.
    """

    def test_everyHandlerListedOnce(self):
        """
        Every handler a command module exports has exactly one row, and
        every row's handler is exported by a command module.
        """
        exported = set().union(*(exposedHandlers(m) for m in HANDLER_MODULES))
        listed = [entry.handler for entry in table.COMMANDS.values()]
        self.assertEqual(len(listed), len(set(listed)))
        self.assertEqual(set(listed), exported)

    def test_groups(self):
        """
        Each group's rows carry that group's name, and the table is the
        union of the groups, keyed by lower-case name.
        """
        for group, rows in GROUPS.items():
            self.assertEqual({entry.group for entry in rows}, {group})
        everything = [entry for rows in GROUPS.values() for entry in rows]
        self.assertEqual(table.COMMANDS, {entry.name.encode(): entry for entry in everything})
        self.assertEqual(len(table.COMMANDS), len(everything))
        self.assertEqual(table.COMMANDS[b"set"].flags, ("write", "denyoom"))
        self.assertEqual(table.COMMANDS[b"mset"].step, 2)

    def test_summaryFromDocstring(self):
        """
        A row's summary, reported by COMMAND DOCS, is the first line of its
        handler's docstring.
        """
        self.assertEqual(table.COMMANDS[b"get"].summary, "Get the value of a key.")
        self.assertEqual(table.COMMANDS[b"hello"].summary,
                         "Handshake: choose the protocol version, authenticate, "
                         "name the client.")

    def test_duplicateRefused(self):
        """
        A name listed twice is an error, not a silent replacement.
        """
        error = self.assertRaises(ValueError, table._index, table.STRINGS, table.STRINGS[:1])
        self.assertEqual(str(error), "the command get is listed twice")

    def test_handlerModulesRegisterNothing(self):
        """
        The command modules do not import the table: importing one adds no
        command anywhere, the table module lists them.
        """
        for module in HANDLER_MODULES:
            tree = ast.parse(inspect.getsource(module))
            imported = {node.module for node in ast.walk(tree)
                        if isinstance(node, ast.ImportFrom)}
            imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                         for alias in node.names}
            self.assertNotIn("services.sessionserver.table", imported, module.__name__)


class ServerTableTests(SynchronousTestCase):
    """
    L{Server} dispatches through its C{commands} table, which COMMAND reports.
    """

    def setUp(self):
        self.server = Server(Store(Clock()))
        self.server.commands = {name: table.COMMANDS[name] for name in (b"ping", b"command")}
        self.client = self.server.connect()

    def test_dispatchByTable(self):
        """
        A command missing from the server's table is unknown to it.
        """
        self.assertEqual(self.server.execute(self.client, [b"PING", b"x"]), b"x")
        reply = self.server.execute(self.client, [b"GET", b"k"])
        self.assertIsInstance(reply, ReplyError)
        self.assertTrue(str(reply).startswith("ERR unknown command 'GET'"), str(reply))

    def test_commandReportsTable(self):
        """
        COMMAND COUNT, LIST and DOCS describe the server's table.
        """
        self.assertEqual(self.server.execute(self.client, [b"COMMAND", b"COUNT"]), 2)
        self.assertEqual(self.server.execute(self.client, [b"COMMAND", b"LIST"]),
                         [b"command", b"ping"])
        self.assertEqual(sorted(self.server.execute(self.client, [b"COMMAND", b"DOCS"])),
                         [b"command", b"ping"])
