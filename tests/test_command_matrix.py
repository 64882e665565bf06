"""
Tests for L{services.sessionserver.matrix}: the command matrix is made from
the command table, and docs/sessions.md carries the current one.
"""

import os
from dataclasses import replace

from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver import matrix, table

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "docs", "sessions.md")


def cells(text, group):
    """
    The cells (supported, partly, not supported) of C{group}'s row.
    """
    for line in text.splitlines():
        if line.startswith(f"| {group} |"):
            return [cell.strip() for cell in line.strip("| ").split(" | ")[1:]]
    raise AssertionError(f"no row for {group}")


class MatrixTests(SynchronousTestCase):
    """
    The matrix follows the table.
    """

    def test_docsUpToDate(self):
        """docs/sessions.md holds the matrix of today's table (python -m
        services.sessionserver.matrix docs/sessions.md rewrites it)."""
        with open(DOCS, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(matrix.replaceMatrix(text, matrix.commandMatrix()), text,
                         "docs/sessions.md's command matrix is out of date: run "
                         "python -m services.sessionserver.matrix docs/sessions.md")

    def test_everyCommandOnce(self):
        """Each table row and each Redis 7.0 command appears exactly once."""
        text = matrix.commandMatrix()
        names = set(table.COMMANDS) | {
            n.encode() for v in matrix.REDIS_COMMANDS.values() for n in v.split()}
        for name in names:
            self.assertEqual(text.count(f"`{name.decode()}`"), 1, name)

    def test_newCommandAppears(self):
        """A row added to the table moves its command out of not supported."""
        lpush = table.Command("lpush", lambda server, client, args: 0, -3, ("write",),
                              group="list")
        text = matrix.commandMatrix({**table.COMMANDS, b"lpush": lpush})
        supported, partly, missing = cells(text, "list")
        self.assertEqual(supported, "`lpush`")
        self.assertNotIn("`lpush`", missing)
        self.assertIn("`lpush`", cells(matrix.commandMatrix(), "list")[2])

    def test_differs(self):
        """A row saying how it differs is partly supported, with that text."""
        get = replace(table.COMMANDS[b"get"], differs="never finds anything")
        text = matrix.commandMatrix({**table.COMMANDS, b"get": get})
        supported, partly, missing = cells(text, "string")
        self.assertIn("`get` (never finds anything)", partly)
        self.assertNotIn("`get`", supported)

    def test_ownGroup(self):
        """A command Redis does not have keeps its own group."""
        extra = table.Command("albatross", lambda server, client, args: 0, 1, (),
                              group="sessions")
        text = matrix.commandMatrix({b"albatross": extra})
        self.assertEqual(cells(text, "sessions"), ["`albatross`", "—", "—"])

    def test_markersMissing(self):
        """Rewriting a text without the markers is refused."""
        self.assertRaises(ValueError, matrix.replaceMatrix, "no markers", "x")
