/**
 * The SQLite store's prepared statements and row mapping: the only place that knows the table layout
 * (sqlite-schema.ts creates it). Every method is synchronous; the caller owns transactions.
 */
import type Database from 'better-sqlite3';
import type { StoredResource } from '../api/resource.js';
import type { WatchEventType } from './store.js';
import type { ChangeRecord } from './watch-hub.js';

/** A row of the events table (the watch history). */
export interface EventRow {
  rv: number;
  type: WatchEventType;
  kind: string;
  namespace: string;
  name: string;
  object: string;
  prev_labels: string | null;
}

interface ResourceRow {
  kind: string;
  namespace: string;
  rv: number;
  object: string;
}

const COLUMNS = 'kind, namespace, rv, object';
const ORDER = 'ORDER BY kind, namespace, name';

export class SqliteStatements {
  readonly begin: Database.Statement;
  readonly commit: Database.Statement;
  readonly rollback: Database.Statement;
  readonly savepoint: Database.Statement;
  readonly release: Database.Statement;
  readonly rollbackTo: Database.Statement;
  private readonly getOne: Database.Statement<[string, string, string], ResourceRow>;
  private readonly listKind: Database.Statement<[string], ResourceRow>;
  private readonly listKindNs: Database.Statement<[string, string], ResourceRow>;
  private readonly listAll: Database.Statement<[], ResourceRow>;
  private readonly listNs: Database.Statement<[string], ResourceRow>;
  private readonly upsert: Database.Statement<[string, string, string, number, string]>;
  private readonly deleteOne: Database.Statement<[string, string, string]>;
  private readonly insertEvent: Database.Statement<[number, string, string, string, string, string, string | null]>;
  private readonly after: Database.Statement<[{ rv: number; kind: string | null; ns: string | null }], EventRow>;
  private readonly oldest: Database.Statement<[], { rv: number | null }>;
  private readonly trim: Database.Statement<[number]>;
  private readonly setRv: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT op');
    this.release = db.prepare('RELEASE op');
    this.rollbackTo = db.prepare('ROLLBACK TO op');
    this.getOne = db.prepare(`SELECT ${COLUMNS} FROM resources WHERE kind = ? AND namespace = ? AND name = ?`);
    this.listKind = db.prepare(`SELECT ${COLUMNS} FROM resources WHERE kind = ? ${ORDER}`);
    this.listKindNs = db.prepare(`SELECT ${COLUMNS} FROM resources WHERE kind = ? AND namespace = ? ${ORDER}`);
    this.listAll = db.prepare(`SELECT ${COLUMNS} FROM resources ${ORDER}`);
    this.listNs = db.prepare(`SELECT ${COLUMNS} FROM resources WHERE namespace = ? ${ORDER}`);
    this.upsert = db.prepare(
      `INSERT INTO resources (kind, namespace, name, rv, object) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (kind, namespace, name) DO UPDATE SET rv = excluded.rv, object = excluded.object`,
    );
    this.deleteOne = db.prepare('DELETE FROM resources WHERE kind = ? AND namespace = ? AND name = ?');
    this.insertEvent = db.prepare(
      'INSERT INTO events (rv, type, kind, namespace, name, object, prev_labels) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.after = db.prepare(
      `SELECT rv, type, kind, namespace, name, object, prev_labels FROM events
       WHERE rv > @rv AND (@kind IS NULL OR kind = @kind) AND (@ns IS NULL OR namespace = @ns) ORDER BY rv`,
    );
    this.oldest = db.prepare('SELECT min(rv) AS rv FROM events');
    this.trim = db.prepare('DELETE FROM events WHERE rv <= ?');
    this.setRv = db.prepare("UPDATE meta SET value = ? WHERE key = 'resource_version'");
  }

  get(kind: string, namespace: string, name: string): StoredResource | undefined {
    const row = this.getOne.get(kind, namespace, name);
    return row && (JSON.parse(row.object) as StoredResource);
  }

  exists(kind: string, namespace: string, name: string): boolean {
    return this.getOne.get(kind, namespace, name) !== undefined;
  }

  /** Objects of one kind, sorted by namespace then name (the primary key's order). */
  list(kind: string, namespace: string | undefined): StoredResource[] {
    const rows = namespace === undefined ? this.listKind.all(kind) : this.listKindNs.all(kind, namespace);
    return rows.map((r) => JSON.parse(r.object) as StoredResource);
  }

  /** The current objects as ADDED changes (each at its own resourceVersion), for a watch without one. */
  snapshot(kind: string | undefined, namespace: string | undefined): ChangeRecord[] {
    let rows: ResourceRow[];
    if (kind !== undefined)
      rows = namespace === undefined ? this.listKind.all(kind) : this.listKindNs.all(kind, namespace);
    else rows = namespace === undefined ? this.listAll.all() : this.listNs.all(namespace);
    return rows.map((r) => ({
      rv: r.rv,
      type: 'ADDED',
      kind: r.kind,
      namespace: r.namespace,
      labels: (JSON.parse(r.object) as StoredResource).metadata.labels,
      json: r.object,
    }));
  }

  /** Stores obj (ADDED or MODIFIED) and records the event; `prevLabels` are the labels before a MODIFIED. */
  put(type: 'ADDED' | 'MODIFIED', obj: StoredResource, prevLabels: Record<string, string> | undefined): ChangeRecord {
    const json = JSON.stringify(obj);
    const { kind } = obj;
    const { namespace, name, resourceVersion } = obj.metadata;
    const rv = Number(resourceVersion);
    this.upsert.run(kind, namespace, name, rv, json);
    const prev = type === 'MODIFIED' ? JSON.stringify(prevLabels ?? {}) : null;
    this.insertEvent.run(rv, type, kind, namespace, name, json, prev);
    return { rv, type, kind, namespace, labels: obj.metadata.labels, prevLabels, json };
  }

  /** Removes the object and records the DELETED event carrying `deleted` (its last state at the new rv). */
  remove(deleted: StoredResource): ChangeRecord {
    const json = JSON.stringify(deleted);
    const { kind } = deleted;
    const { namespace, name, resourceVersion } = deleted.metadata;
    const rv = Number(resourceVersion);
    this.deleteOne.run(kind, namespace, name);
    this.insertEvent.run(rv, 'DELETED', kind, namespace, name, json, null);
    return { rv, type: 'DELETED', kind, namespace, labels: deleted.metadata.labels, json };
  }

  eventsAfter(rv: number, kind: string | undefined, namespace: string | undefined): EventRow[] {
    return this.after.all({ rv, kind: kind ?? null, ns: namespace ?? null });
  }

  oldestEventRv(): number | undefined {
    return this.oldest.get()?.rv ?? undefined;
  }

  /** Drops history at or below `rv`: a range delete on the rowid, cheap however long the table. */
  trimEvents(rv: number): void {
    if (rv > 0) this.trim.run(rv);
  }

  setResourceVersion(rv: number): void {
    this.setRv.run(rv);
  }
}
