"""
The database: a picklable service around a C{twisted.enterprise.adbapi}
pool, for SQLite and PostgreSQL.

  - L{services.db.url}: what C{--db} accepts, and masking its password;
  - L{services.db.params}: C{?} placeholders on every database;
  - L{services.db.dialects}: what differs between SQLite and PostgreSQL;
  - L{services.db.pool}: the connection pool, its failures and recovery;
  - L{services.db.migrations}: C{NNN_name.sql} files applied at start-up;
  - L{services.db.service}: L{DatabaseService}, what controllers call.
"""

from services.db.errors import DatabaseUnavailable, UnstorableText
from services.db.migrations import MigrationError
from services.db.params import translatePlaceholders
from services.db.service import DatabaseService
from services.db.url import DatabaseURL, databaseURL, maskURL, parseDatabaseURL

__all__ = ["DatabaseService", "DatabaseUnavailable", "UnstorableText", "MigrationError",
           "translatePlaceholders", "DatabaseURL", "databaseURL", "maskURL", "parseDatabaseURL"]
