/**
 * The SQLite store's connection settings and schema, versioned with `PRAGMA user_version` so a later Shoal
 * can migrate an older data directory in place (append to MIGRATIONS; never edit a released step).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ShoalError, errorMessage } from '../core/errors.js';

export type SynchronousMode = 'FULL' | 'NORMAL';

/**
 * MIGRATIONS[i] takes a database from schema version i to i + 1. `labels`/`prev_labels` duplicate the
 * object's labels (JSON, NULL when none) so label selectors filter without parsing whole objects.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES ('resource_version', 0);
  CREATE TABLE resources (
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    rv INTEGER NOT NULL,
    labels TEXT,
    object TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name)
  );
  CREATE TABLE events (
    rv INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    labels TEXT,
    prev_labels TEXT,
    object TEXT NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenedDatabase {
  db: Database.Database;
  /** The persisted store-wide resourceVersion. */
  resourceVersion: number;
}

/**
 * Opens (creating if needed) the database at `path` (':memory:' for tests): WAL journal, the given
 * synchronous mode, a busy timeout, an exclusive lock held for the life of the connection (one process
 * owns a data directory: watches only see writes made through the same SqliteStore), schema migrated.
 */
export function openDatabase(path: string, synchronous: SynchronousMode, busyTimeoutMs: number): OpenedDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    migrate(db, path);
    const row = db.prepare("SELECT value FROM meta WHERE key = 'resource_version'").get() as { value: number };
    return { db, resourceVersion: row.value };
  } catch (err) {
    db.close();
    if (err instanceof ShoalError) throw err;
    const busy = (err as { code?: unknown }).code === 'SQLITE_BUSY';
    throw new ShoalError(
      'ServiceUnavailable',
      busy
        ? `store ${path} is locked by another process (one control plane per data directory)`
        : `cannot open store ${path}: ${errorMessage(err)}`,
    );
  }
}

function migrate(db: Database.Database, path: string): void {
  // BEGIN IMMEDIATE takes the write lock now, so a second process fails here rather than on its first write.
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new ShoalError(
        'InternalError',
        `store ${path} has schema version ${version}, newer than this Shoal's ${SCHEMA_VERSION}: upgrade Shoal`,
      );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
