/**
 * The embedded Store: one SQLite file in WAL mode (see docs/store.md for the settings and their numbers).
 *
 * Writes are group-committed: create/update/delete queue an operation and the queue is applied in one
 * transaction on the next check phase of the event loop (setImmediate), each operation in its own savepoint
 * so one failing (Conflict, NotFound, ...) does not affect the others. A write's promise resolves only after
 * its transaction committed, and after every watcher has been handed its event. Reads are synchronous
 * against committed state. better-sqlite3 is synchronous, so a commit and its fan-out never interleave with
 * a list or a watch's replay: list-then-watch is gap-free.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ShoalError, errorMessage } from '../core/errors.js';
import type { ObjectKey, Resource, StoredResource } from '../api/resource.js';
import type { DeleteOptions, ListOptions, ListResult, Store, Watch, WatchEvent, WatchOptions } from './store.js';
import {
  checkDeletePrecondition,
  createdObject,
  deletedObject,
  jsonCopy,
  parseResourceVersion,
  tooOldResourceVersion,
  updatedObject,
  writeKey,
} from './object-rules.js';
import { openDatabase, type SynchronousMode } from './sqlite-schema.js';
import { SqliteStatements } from './sqlite-statements.js';
import { WatchHub, type ChangeRecord } from './watch-hub.js';

export interface SqliteStoreOptions {
  /** Database file (its directory is created), or ':memory:'. */
  path: string;
  /** Watch history kept, in events (default 10000). Older resourceVersions get 410 Expired. */
  historyLimit?: number;
  clock?: () => Date;
  /** 'FULL' (default) survives power loss as well as kill -9; 'NORMAL' survives kill -9 only. */
  synchronous?: SynchronousMode;
  /** How long to wait for a lock held by another connection before failing (default 5000 ms). */
  busyTimeoutMs?: number;
}

export interface SqliteStoreStats {
  resourceVersion: number;
  watchers: number;
  pendingWrites: number;
  /** The oldest resourceVersion still in the watch history (undefined when empty). */
  historyOldest: number | undefined;
  /** 'wal' on disk, 'memory' for ':memory:'. */
  journalMode: string;
}

/** One queued write: runs inside the batch transaction at `rv` (the next resourceVersion if it makes one). */
interface Applied {
  result: StoredResource;
  /** Absent when the write made no change (a no-op update): no new resourceVersion, no event. */
  change?: ChangeRecord;
}

interface PendingWrite {
  apply(rv: number): Applied;
  resolve(value: StoredResource): void;
  reject(err: unknown): void;
}

export const DEFAULT_HISTORY_LIMIT = 10000;

export class SqliteStore implements Store {
  private readonly hub = new WatchHub();
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly sql: SqliteStatements,
    private rv: number,
    private readonly historyLimit: number,
    private readonly clock: () => Date,
  ) {}

  static open(options: SqliteStoreOptions): SqliteStore {
    const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(historyLimit) || historyLimit < 1) {
      throw new ShoalError('BadRequest', `historyLimit must be a positive integer, got ${historyLimit}`);
    }
    const { db, resourceVersion } = openDatabase(
      options.path,
      options.synchronous ?? 'FULL',
      options.busyTimeoutMs ?? 5000,
    );
    const clock = options.clock ?? (() => new Date());
    return new SqliteStore(db, new SqliteStatements(db), resourceVersion, historyLimit, clock);
  }

  get(kind: string, namespace: string, name: string): Promise<StoredResource | undefined> {
    return this.read(() => this.sql.get(kind, namespace, name));
  }

  list(kind: string, options: ListOptions = {}): Promise<ListResult> {
    return this.read(() => {
      const items = this.sql.list(kind, options.namespace, options.labelSelector);
      return { items, resourceVersion: String(this.rv) };
    });
  }

  currentVersion(): Promise<string> {
    return this.read(() => String(this.rv));
  }

  create(obj: Resource): Promise<StoredResource> {
    return this.writeObject(obj, (input, key, rv) => {
      if (this.sql.exists(key.kind, key.namespace, key.name)) throw ShoalError.alreadyExists(key.kind, key.name);
      const created = createdObject(input, rv, randomUUID(), this.clock());
      return { result: created, change: this.sql.put('ADDED', created, undefined) };
    });
  }

  update(obj: Resource): Promise<StoredResource> {
    return this.writeObject(obj, (input, key, rv) => {
      const stored = this.sql.get(key.kind, key.namespace, key.name);
      if (!stored) throw ShoalError.notFound(key.kind, key.name);
      const outcome = updatedObject(stored, input, rv);
      if (!outcome.changed) return { result: stored };
      return { result: outcome.object, change: this.sql.put('MODIFIED', outcome.object, stored.metadata.labels) };
    });
  }

  delete(kind: string, namespace: string, name: string, options: DeleteOptions = {}): Promise<StoredResource> {
    return this.write((rv) => {
      const stored = this.sql.get(kind, namespace, name);
      if (!stored) throw ShoalError.notFound(kind, name);
      checkDeletePrecondition(stored, options.resourceVersion);
      const deleted = deletedObject(stored, rv);
      return { result: deleted, change: this.sql.remove(deleted) };
    });
  }

  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (err: Error) => void): Promise<Watch> {
    return this.read(() => {
      const filter = { kind: options.kind, namespace: options.namespace, labelSelector: options.labelSelector };
      const from = parseResourceVersion(options.resourceVersion) ?? 0;
      let initial: ChangeRecord[];
      if (from === 0) {
        initial = this.sql.snapshot(options.kind, options.namespace);
      } else {
        if (from > this.rv) throw ShoalError.gone(`too large resource version: ${from} (current ${this.rv})`);
        if (from < this.rv) {
          const oldest = this.sql.oldestEventRv() ?? this.rv + 1;
          if (oldest > from + 1) throw tooOldResourceVersion(from, oldest - 1);
        }
        initial = this.sql.eventsAfter(from, options.kind, options.namespace);
      }
      return this.hub.subscribe(filter, this.rv, initial, onEvent, onError);
    });
  }

  /** Applies queued writes, checkpoints the WAL into the main file, closes the database, ends watches. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flush();
    this.closed = true;
    let failure: unknown;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      failure = err; // The WAL stays and is replayed on the next open: nothing acknowledged is lost.
    }
    this.db.close();
    this.hub.endAll(closedError());
    return failure === undefined ? Promise.resolve() : Promise.reject(asError(failure));
  }

  /** Small numbers for /metrics and diagnostics. */
  stats(): SqliteStoreStats {
    return {
      resourceVersion: this.rv,
      watchers: this.hub.size,
      pendingWrites: this.pending.length,
      historyOldest: this.closed ? undefined : this.sql.oldestEventRv(),
      journalMode: this.closed ? 'closed' : String(this.db.pragma('journal_mode', { simple: true })),
    };
  }

  private read<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(asError(err));
    }
  }

  /** Copies the input now (the caller may change it before the batch runs) and checks its key. */
  private writeObject(
    obj: Resource,
    apply: (input: Resource, key: ObjectKey, rv: number) => Applied,
  ): Promise<StoredResource> {
    let input: Resource;
    let key: ObjectKey;
    try {
      input = jsonCopy(obj);
      key = writeKey(input);
    } catch (err) {
      return Promise.reject(asError(err));
    }
    return this.write((rv) => apply(input, key, rv));
  }

  private write(apply: PendingWrite['apply']): Promise<StoredResource> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<StoredResource>((resolve, reject) => {
      this.pending.push({ apply, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every queued write in one transaction, then publishes the changes and settles the promises. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 || this.closed) return;
    const outcomes: ({ ok: true; value: StoredResource } | { ok: false; error: unknown })[] = [];
    const changes: ChangeRecord[] = [];
    let rv = this.rv;
    try {
      this.sql.begin.run();
      for (const op of batch) {
        this.sql.savepoint.run();
        try {
          const { result, change } = op.apply(rv + 1);
          if (change) {
            rv++;
            changes.push(change);
          }
          this.sql.release.run();
          outcomes.push({ ok: true, value: result });
        } catch (error) {
          if (!this.db.inTransaction) throw error;
          this.sql.rollbackTo.run();
          this.sql.release.run();
          outcomes.push({ ok: false, error });
        }
      }
      if (rv !== this.rv) {
        this.sql.setResourceVersion(rv);
        this.sql.trimEvents(rv - this.historyLimit);
      }
      this.sql.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.sql.rollback.run();
      const err = new ShoalError('InternalError', `store write failed: ${errorMessage(error)}`);
      for (const op of batch) op.reject(err);
      return;
    }
    this.rv = rv;
    for (const change of changes) this.hub.publish(change);
    batch.forEach((op, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) op.resolve(outcome.value);
      else op.reject(outcome.error);
    });
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function closedError(): ShoalError {
  return new ShoalError('ServiceUnavailable', 'store closed');
}
