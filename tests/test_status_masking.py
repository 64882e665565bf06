"""
Tests for the status page's URLs: passwords never appear in it.
"""

import json

from twisted.application.service import MultiService, Service
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from appserver.tap import webapp
from appserver.web.status import describeTree
from services.figures import IServiceFigures
from tests.test_webapp_tree import appDir, localRequest, parse

SECRET = "s3cr3t-pw"


@implementer(IServiceFigures)
class Reporting(Service):
    """
    A service reporting figures that hold URLs.
    """

    def figures(self):
        """
        URLs with and without a password, alone and in a sentence, nested.
        """
        return {"upstream": f"https://alice:{SECRET}@example.com/x",
                "plain": "https://example.com/x",
                "notes": [{"error": f"Cannot reach redis://:{SECRET}@h:1/0: refused"}]}


class MaskingTests(SynchronousTestCase):
    """
    GET /_appserver/services shows every URL with its password masked.
    """

    def test_databaseAndSessionStore(self):
        """
        A PostgreSQL --db and a redis:// --sessions show user and host but
        not the password.
        """
        service = webapp.makeService(parse([
            "--app", appDir(self), "--db", f"postgresql://u:{SECRET}@127.0.0.1:1/x",
            "--sessions", f"redis://:{SECRET}@127.0.0.1:1/0"]))
        answer = localRequest(service.getServiceNamed("web").resource, b"/_appserver/services")
        self.assertEqual(answer.code, 200)
        self.assertNotIn(SECRET.encode(), answer.body)
        children = {c["name"]: c["figures"] for c in
                    json.loads(answer.body)["services"][0]["children"]}
        self.assertEqual(children["db"]["url"], "postgresql://u:***@127.0.0.1:1/x")
        self.assertEqual(children["sessions"]["store"], "redis://:***@127.0.0.1:1/0")

    def test_anyFigure(self):
        """
        Any service's figures have their URLs masked, however deep.
        """
        root = MultiService()
        Reporting().setServiceParent(root)
        figures = describeTree(root)["children"][0]["figures"]
        self.assertEqual(figures, {
            "upstream": "https://alice:***@example.com/x",
            "plain": "https://example.com/x",
            "notes": [{"error": "Cannot reach redis://:***@h:1/0: refused"}]})
