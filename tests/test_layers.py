"""
The layers of docs/architecture.md hold: imports run one way, from
C{examples/} and C{twisted/plugins/} through C{appserver/} down to
C{services/}.

Every module's imports are read with L{ast} (nothing is imported), the ones
inside functions and under C{if TYPE_CHECKING:} included, relative ones made
absolute. The rules:

  - C{services/} imports nothing from C{appserver};
  - nothing in C{appserver/} or C{services/} imports the example, C{qotd}
    (installed from C{examples/qotd/});
  - C{appserver/sessions/} uses only the public face of C{appserver.web}:
    web internals are its private modules (a dotted part starting with an
    underscore, C{appserver.web._something}), its private names (C{from
    appserver.web.hooks import _HOOKS}), and a name a module of it does not
    list in its C{__all__} (its public face, STYLE.md rule 10);
  - the drop-in C{twisted/plugins/} imports nothing heavy: only
    C{twisted.application.service} (for C{ServiceMaker}), C{twisted.plugin}
    and C{zope.interface}, since C{getPlugins} imports it on every
    C{twistd} call.

A failure names each offending C{file:line} and what it imports.
"""

import ast
import os

from twisted.trial.unittest import SynchronousTestCase

from tests.support import SOURCE

# Where a top-level package's modules live, relative to the checkout.
PACKAGES = {
    "appserver": "appserver",
    "services": "services",
    "qotd": os.path.join("examples", "qotd"),
    "twisted.plugins": os.path.join("twisted", "plugins"),
}

# What the drop-in may import.
LIGHT = ("twisted.application.service", "twisted.plugin", "zope.interface")


class Import:
    """
    One imported module, and the names taken from it (empty for C{import
    X}), as written at C{path:line}.
    """

    def __init__(self, path, line, module, names=()):
        self.path = path
        self.line = line
        self.module = module
        self.names = tuple(names)

    def under(self, package):
        """
        Whether this imports C{package} or a module inside it.
        """
        return self.module == package or self.module.startswith(package + ".")

    def __str__(self):
        what = self.module
        if self.names:
            what = "from {} import {}".format(self.module, ", ".join(self.names))
        return f"{self.path}:{self.line}: {what}"


def moduleName(path, package, top):
    """
    The dotted name of the module at C{path}, a file inside the folder
    C{top} that holds C{package}.
    """
    parts = os.path.relpath(path, top)[:-len(".py")].split(os.sep)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package] + parts)


def importsOf(source, path, module, isPackage=False):
    """
    Every L{Import} in C{source}, the text of the module named C{module}
    (a package's C{__init__} when C{isPackage}), shown as C{path}.
    """
    here = module.split(".") if isPackage else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.Import):
            found.extend(Import(path, node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            name = ".".join(base + ([node.module] if node.module else []))
            found.append(Import(path, node.lineno, name, [a.name for a in node.names]))
    return found


def sourceFiles(package):
    """
    The C{(path, module name, is a package)} of every module of C{package}
    in the checkout, paths relative to it.
    """
    top = os.path.join(SOURCE, PACKAGES[package])
    for directory, subdirectories, files in os.walk(top):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        for fileName in sorted(files):
            if fileName.endswith(".py"):
                path = os.path.join(directory, fileName)
                yield (os.path.relpath(path, SOURCE).replace(os.sep, "/"),
                       moduleName(path, package, top), fileName == "__init__.py")


def importsIn(package):
    """
    Every L{Import} written in the modules of C{package}.
    """
    found = []
    for path, module, isPackage in sourceFiles(package):
        with open(os.path.join(SOURCE, path), encoding="utf-8") as f:
            found.extend(importsOf(f.read(), path, module, isPackage))
    return found


def publicNames(module):
    """
    The names C{module} (of the checkout) offers: its C{__all__}, or
    L{None} when it has none.
    """
    package, _, rest = module.partition(".")
    path = os.path.join(SOURCE, PACKAGES[package], *rest.split("."))
    path = os.path.join(path, "__init__.py") if os.path.isdir(path) else path + ".py"
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return None


def isWebInternal(imported):
    """
    Whether C{imported} reaches into C{appserver.web}'s internals: a private
    module or name, or a name its module does not list in C{__all__}.
    """
    if not imported.under("appserver.web"):
        return False
    if any(part.startswith("_") for part in imported.module.split(".")):
        return True
    offered = publicNames(imported.module)
    return any(name.startswith("_") or (offered is not None and name not in offered
                                        and not isSubmodule(imported.module, name))
               for name in imported.names)


def isSubmodule(module, name):
    """
    Whether C{name} is a module inside the package C{module}.
    """
    package, _, rest = module.partition(".")
    base = os.path.join(SOURCE, PACKAGES[package], *rest.split("."), name)
    return os.path.isdir(base) or os.path.exists(base + ".py")


def isLight(imported):
    """
    Whether the drop-in may import C{imported}.
    """
    return imported.module == "__future__" or any(imported.under(m) for m in LIGHT)


class ImportReadingTests(SynchronousTestCase):
    """
    L{importsOf} finds every import, absolute and relative, at any depth.
    """

    def test_absoluteAndNested(self):
        """
        Top-level imports, C{from} imports and imports inside functions are
        all found, with their lines.
        """
        source = "import os\nfrom a.b import c, d\ndef f():\n    import qotd.tap\n"
        found = importsOf(source, "x/m.py", "x.m")
        self.assertEqual([str(i) for i in found], [
            "x/m.py:1: os", "x/m.py:2: from a.b import c, d", "x/m.py:4: qotd.tap"])

    def test_relative(self):
        """
        Relative imports are made absolute from the module's package, and
        from a package's own C{__init__}.
        """
        found = importsOf("from . import a\nfrom ..web import _eager\n",
                          "p/s/m.py", "p.s.m")
        self.assertEqual([i.module for i in found], ["p.s", "p.web"])
        found = importsOf("from .stores import x\n", "p/s/__init__.py", "p.s", True)
        self.assertEqual([i.module for i in found], ["p.s.stores"])

    def test_webInternals(self):
        """
        A private module, a private name and a name left out of its module's
        C{__all__} are web internals; a listed name or a submodule is not.
        """
        def internal(source):
            return [isWebInternal(i) for i in importsOf(source, "m.py", "appserver.sessions.m")]

        self.assertEqual(internal(
            "from appserver.web._eager import runEagerly\n"
            "from appserver.web.hooks import _HOOKS\n"
            "from appserver.web.router import Route\n"
            "from appserver.web.hooks import beforeResponse\n"
            "from appserver.web import hooks\n"
            "from appserver.sessions import session\n"), [True, True, True, False, False, False])

    def test_dropInWeight(self):
        """
        The drop-in may declare C{ServiceMaker}s; the framework is heavy.
        """
        found = importsOf("from twisted.application.service import ServiceMaker\n"
                          "from appserver.tap import webapp\nimport twisted.internet.reactor\n",
                          "twisted/plugins/p.py", "twisted.plugins.p")
        self.assertEqual([isLight(i) for i in found], [True, False, False])


class LayerTests(SynchronousTestCase):
    """
    Imports between the checkout's packages run one way.
    """

    def assertNone(self, offending, rule):
        """
        Fail naming every import of C{offending} if there are any.
        """
        if offending:
            self.fail("{}:\n  {}".format(rule, "\n  ".join(str(i) for i in offending)))

    def test_servicesBelowAppserver(self):
        """
        C{services/} imports nothing from C{appserver}.
        """
        self.assertNone([i for i in importsIn("services") if i.under("appserver")],
                        "services/ imports appserver/")

    def test_exampleOnTop(self):
        """
        Nothing in C{appserver/} or C{services/} imports C{qotd}.
        """
        self.assertNone([i for package in ("appserver", "services") for i in importsIn(package)
                         if i.under("qotd") or i.under("examples")],
                        "the framework imports the example")

    def test_sessionsUseWebsPublicFace(self):
        """
        C{appserver/sessions/} imports no web internals.
        """
        self.assertNone([i for i in importsIn("appserver")
                         if i.path.startswith("appserver/sessions/") and isWebInternal(i)],
                        "appserver/sessions/ imports appserver.web internals")

    def test_dropInLight(self):
        """
        C{twisted/plugins/} imports only what declaring a plugin needs.
        """
        self.assertNone([i for i in importsIn("twisted.plugins") if not isLight(i)],
                        "twisted/plugins/ imports something heavy")
