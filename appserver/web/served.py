"""
What a C{web-app} run serves as files, and what it keeps private: no served
directory (C{--static}, the app's C{static/}) may hold a file the run keeps
data or secrets in (the database, a session secret, the session files, the
configuration files), checked when the options are parsed.

Each function takes the parsed options of C{twistd web-app}
(L{appserver.tap.webapp.Options}).
"""

import os
from typing import Any

from appserver.sessions.service import DEFAULT_SECRET_PATH
from appserver.web.appdir import appConfigPath, appHome
from appserver.web.static import checkNotServed
from services.db.url import databaseURL

__all__ = ["usesDatabase", "servedDirectories", "privateFiles", "checkServed"]


def usesDatabase(options: Any) -> bool:
    """
    Whether anything reads the database: an app, or QOTD's quotes.
    """
    return bool(options["app"] or options["qotd-port"])


def privateFiles(options: Any) -> list[tuple[str, str, str]]:
    """
    The files this run keeps data or secrets in, as C{(what, path,
    option)}: what no served directory may hold.
    """
    files = _configFiles(options)
    db = databaseURL(options["db"])
    if usesDatabase(options) and db.backend == "sqlite" and not db.inMemory:
        files.append(("the database", db.path, "--db"))
    if options["app"]:
        files += [("the session secret", path, "--secret-file")
                  for path in options["secret-file"]]
        if not (options["secret"] or options["secret-file"]):
            files.append(("the generated session secret", DEFAULT_SECRET_PATH, "--secret-file"))
        if options["sessions"].startswith("file:"):
            files.append(("the session files", options["sessions"][len("file:"):], "--sessions"))
    return files


def _configFiles(options):
    """
    The YAML files this run read options from (C{--config} or its
    variable, the app's C{app.yaml}), as L{privateFiles} gives them: they
    may hold a secret or a database password.
    """
    files = []
    config = options.configPath()
    if config:
        files.append(("the config file", config, "--config"))
    appConfig = appConfigPath(options["app"])
    if appConfig:
        files.append(("the app's configuration", appConfig, "--app"))
    return files


def servedDirectories(options: Any) -> list[tuple[str, str]]:
    """
    The directories served as files, as C{(directory, how)}.
    """
    served = [(options["static"], "--static")] if options["static"] else []
    home = appHome(options["app"])
    if home:
        served.append((os.path.join(home, "static"), "the app's static/"))
    return served


def checkServed(options: Any) -> None:
    """
    Check that no served directory holds a private file.

    @raise ValueError: naming the file, the directory and the options.
    """
    checkNotServed(servedDirectories(options), privateFiles(options))
