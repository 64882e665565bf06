"""
Schema migrations: C{NNN_name.sql} files applied in order, once each.

A migration directory holds files named C{NNN_name.sql} (C{001_quotes.sql},
C{002_add_author.sql}); other files are ignored. Directories are applied in
the order given, and the files of one directory in the order of their
numbers. Each file runs in its own transaction, together with the row that
records it in the C{appserver_migrations} table (its file name and the
SHA-256 of its bytes), so a failing file leaves nothing behind.

Starting again applies only the files not yet recorded. A recorded file
whose bytes have changed since is an error naming it: write a new migration
instead of editing an applied one. File names are the record's key, so they
must be unique across all the directories of one database (prefix the files
of a reusable component, as C{001_demo_quotes.sql}).

A migration file must not contain its own C{BEGIN}/C{COMMIT}.
"""

import dataclasses
import datetime
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["Migration", "MigrationError", "findMigrations", "applyMigrations",
           "TABLE"]

TABLE = "appserver_migrations"

_NAME = re.compile(r"^(\d+)_[A-Za-z0-9_.\-]+\.sql$")

_CREATE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, "
           f"checksum TEXT NOT NULL, applied_at TEXT NOT NULL)")
_RECORDED = f"SELECT checksum FROM {TABLE} WHERE name = ?"
_RECORD = f"INSERT INTO {TABLE} (name, checksum, applied_at) VALUES (?, ?, ?)"


class MigrationError(Exception):
    """
    A migration file is misnamed, was changed after it was applied, or failed.
    """


@dataclasses.dataclass(frozen=True)
class Migration:
    """
    One migration file.

    @ivar name: the file name, the key it is recorded under.
    @ivar path: the file's path.
    @ivar checksum: the hex SHA-256 of the file's bytes.
    @ivar sql: the file's text.
    """

    name: str
    path: str
    checksum: str
    sql: str


def findMigrations(directories: Iterable[str]) -> list[Migration]:
    """
    List the migrations of C{directories}, in the order they apply.

    A directory that does not exist has no migrations.

    @raise MigrationError: for a misnamed C{.sql} file, two files with the
        same number in one directory, or one file name in two directories.
    """
    migrations: list[Migration] = []
    seen: dict[str, Any] = {}
    for directory in directories:
        for migration in _directoryMigrations(directory):
            if migration.name in seen:
                raise MigrationError(
                    f"Migrations {seen[migration.name]} and {migration.path} "
                    f"have the same name; rename one.")
            seen[migration.name] = migration.path
            migrations.append(migration)
    return migrations


def _directoryMigrations(directory):
    if not os.path.exists(directory):
        return []
    if not os.path.isdir(directory):
        raise MigrationError(f"Migration directory {directory} is not a directory.")
    numbered: dict[int, Migration] = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".sql"):
            continue
        path = os.path.join(directory, name)
        match = _NAME.match(name)
        if match is None:
            raise MigrationError(f"Migration file {path} is not named NNN_name.sql.")
        number = int(match.group(1))
        if number in numbered:
            raise MigrationError(
                f"Migrations {numbered[number].path} and {path} have the same number.")
        numbered[number] = _readMigration(name, path)
    return [numbered[number] for number in sorted(numbered)]


def _readMigration(name, path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        sql = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MigrationError(f"Migration file {path} is not UTF-8 ({e}).") from None
    return Migration(name=name, path=path, checksum=hashlib.sha256(data).hexdigest(),
                     sql=sql)


def applyMigrations(connection: Any, dialect: Any, migrations: Sequence[Migration]) -> list[str]:
    """
    Apply the migrations not yet recorded, each in its own transaction.

    This blocks: call it at start-up, or in a thread.

    @param connection: an open DB-API connection.
    @param dialect: the database's dialect, which provides
        C{beginExclusive(cursor)} (start a transaction that other migrating
        processes wait for), C{executeScript(cursor, sql)} and
        C{translate(sql)} (from C{?} placeholders to the driver's).
    @param migrations: L{Migration}s, as L{findMigrations} returns them.
    @return: the names of the migrations applied now.
    @raise MigrationError: naming the file that changed or failed; the
        migrations before it stay applied.
    """
    _inTransaction(connection, dialect, None, _createTable)
    return [m.name for m in migrations
            if _inTransaction(connection, dialect, m, _applyOne)]


def _inTransaction(connection, dialect, migration, step):
    cursor = connection.cursor()
    try:
        dialect.beginExclusive(cursor)
        result = step(cursor, dialect, migration)
        connection.commit()
        return result
    except MigrationError:
        connection.rollback()
        raise
    except Exception as e:
        connection.rollback()
        where = "Creating the migrations table" if migration is None else (
            f"Migration {migration.path}")
        raise MigrationError(f"{where} failed: {e}".rstrip()) from e
    finally:
        cursor.close()


def _createTable(cursor, dialect, migration):
    cursor.execute(_CREATE)


def _applyOne(cursor, dialect, migration):
    cursor.execute(dialect.translate(_RECORDED), (migration.name,))
    row = cursor.fetchone()
    if row is not None:
        if row[0] != migration.checksum:
            raise MigrationError(
                f"Migration {migration.path} was changed after it was applied; "
                f"restore it and add a new migration instead.")
        return False
    dialect.executeScript(cursor, migration.sql)
    appliedAt = datetime.datetime.now(datetime.timezone.utc).isoformat()
    cursor.execute(dialect.translate(_RECORD),
                   (migration.name, migration.checksum, appliedAt))
    return True
