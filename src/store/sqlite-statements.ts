/**
 * The SQLite store's prepared statements and row mapping: the only place that knows the table layout
 * (sqlite-schema.ts creates it). Every method is synchronous; the caller owns transactions.
 */
import type Database from 'better-sqlite3';
import type { StoredResource } from '../api/resource.js';
import { matches, type LabelSelector } from './label-selector.js';
import type { WatchEventType } from './store.js';
import type { ChangeRecord } from './watch-hub.js';

type Labels = Record<string, string> | undefined;

interface ObjectRow {
  kind: string;
  namespace: string;
  rv: number;
  labels: string | null;
  object: string;
}

interface LabelRow {
  namespace: string;
  name: string;
  labels: string | null;
}

interface EventRow extends ObjectRow {
  type: WatchEventType;
  prev_labels: string | null;
}

const ORDER = 'ORDER BY kind, namespace, name';
const WHERE: Record<string, string> = {
  '': '',
  k: 'WHERE kind = ?',
  n: 'WHERE namespace = ?',
  kn: 'WHERE kind = ? AND namespace = ?',
};

/** The statement key and parameters for an optional kind and namespace filter. */
function filterOf(kind: string | undefined, namespace: string | undefined): [string, string[]] {
  const params = [kind, namespace].filter((p): p is string => p !== undefined);
  return [`${kind === undefined ? '' : 'k'}${namespace === undefined ? '' : 'n'}`, params];
}
const ROW = 'kind, namespace, rv, labels, object';

function labelsJson(labels: Labels): string | null {
  return labels && Object.keys(labels).length > 0 ? JSON.stringify(labels) : null;
}

function parseLabels(json: string | null): Labels {
  return json === null ? undefined : (JSON.parse(json) as Record<string, string>);
}

const parseObject = (json: string): StoredResource => JSON.parse(json) as StoredResource;

export class SqliteStatements {
  readonly begin: Database.Statement;
  readonly commit: Database.Statement;
  readonly rollback: Database.Statement;
  readonly savepoint: Database.Statement;
  readonly release: Database.Statement;
  readonly rollbackTo: Database.Statement;
  private readonly getOne: Database.Statement<[string, string, string], string>;
  /** Selects by kind and/or namespace in key order, one statement per filter shape so each uses the index. */
  private readonly selects = new Map<string, Database.Statement<string[], ObjectRow>>();
  private readonly selectObjects = new Map<string, Database.Statement<string[], string>>();
  private readonly selectLabels = new Map<string, Database.Statement<string[], LabelRow>>();
  private readonly upsert: Database.Statement<[string, string, string, number, string | null, string]>;
  private readonly deleteOne: Database.Statement<[string, string, string]>;
  private readonly insertEvent: Database.Statement<
    [number, string, string, string, string, string | null, string | null, string]
  >;
  private readonly after: Database.Statement<[{ rv: number; kind: string | null; ns: string | null }], EventRow>;
  private readonly oldest: Database.Statement<[], number | null>;
  private readonly trim: Database.Statement<[number]>;
  private readonly setRv: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT op');
    this.release = db.prepare('RELEASE op');
    this.rollbackTo = db.prepare('ROLLBACK TO op');
    this.getOne = db
      .prepare<[string, string, string], string>(
        'SELECT object FROM resources WHERE kind = ? AND namespace = ? AND name = ?',
      )
      .pluck();
    for (const [shape, where] of Object.entries(WHERE)) {
      this.selects.set(shape, db.prepare(`SELECT ${ROW} FROM resources ${where} ${ORDER}`));
      this.selectObjects.set(
        shape,
        db.prepare<string[], string>(`SELECT object FROM resources ${where} ${ORDER}`).pluck(),
      );
      this.selectLabels.set(shape, db.prepare(`SELECT namespace, name, labels FROM resources ${where} ${ORDER}`));
    }
    this.upsert = db.prepare(
      `INSERT INTO resources (kind, namespace, name, rv, labels, object) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, namespace, name) DO UPDATE SET rv = excluded.rv, labels = excluded.labels, object = excluded.object`,
    );
    this.deleteOne = db.prepare('DELETE FROM resources WHERE kind = ? AND namespace = ? AND name = ?');
    this.insertEvent = db.prepare(
      'INSERT INTO events (rv, type, kind, namespace, name, labels, prev_labels, object) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.after = db.prepare(
      `SELECT ${ROW}, type, prev_labels FROM events
       WHERE rv > @rv AND (@kind IS NULL OR kind = @kind) AND (@ns IS NULL OR namespace = @ns) ORDER BY rv`,
    );
    this.oldest = db.prepare<[], number | null>('SELECT min(rv) FROM events').pluck();
    this.trim = db.prepare('DELETE FROM events WHERE rv <= ?');
    this.setRv = db.prepare("UPDATE meta SET value = ? WHERE key = 'resource_version'");
  }

  get(kind: string, namespace: string, name: string): StoredResource | undefined {
    const json = this.getOne.get(kind, namespace, name);
    return json === undefined ? undefined : parseObject(json);
  }

  exists(kind: string, namespace: string, name: string): boolean {
    return this.getOne.get(kind, namespace, name) !== undefined;
  }

  /**
   * Objects of one kind, sorted by namespace then name. With a selector, the labels column is scanned first
   * and only the matching objects are read and parsed (reading every object's JSON dominates a full list).
   */
  list(kind: string, namespace: string | undefined, selector: LabelSelector | undefined): StoredResource[] {
    const [shape, params] = filterOf(kind, namespace);
    if (!selector || selector.requirements.length === 0)
      return this.selectObjects
        .get(shape)!
        .all(...params)
        .map(parseObject);
    const out: StoredResource[] = [];
    for (const row of this.selectLabels.get(shape)!.all(...params)) {
      if (!matches(selector, parseLabels(row.labels))) continue;
      const json = this.getOne.get(kind, row.namespace, row.name);
      if (json !== undefined) out.push(parseObject(json));
    }
    return out;
  }

  /** The current objects as ADDED changes (each at its own resourceVersion), for a watch without one. */
  snapshot(kind: string | undefined, namespace: string | undefined): ChangeRecord[] {
    const [shape, params] = filterOf(kind, namespace);
    return this.selects
      .get(shape)!
      .all(...params)
      .map((r) => ({
        rv: r.rv,
        type: 'ADDED',
        kind: r.kind,
        namespace: r.namespace,
        labels: parseLabels(r.labels),
        json: r.object,
      }));
  }

  /** The retained history after `rv`, in order. */
  eventsAfter(rv: number, kind: string | undefined, namespace: string | undefined): ChangeRecord[] {
    return this.after.all({ rv, kind: kind ?? null, ns: namespace ?? null }).map((r) => ({
      rv: r.rv,
      type: r.type,
      kind: r.kind,
      namespace: r.namespace,
      labels: parseLabels(r.labels),
      prevLabels: parseLabels(r.prev_labels),
      json: r.object,
    }));
  }

  /** Stores obj (ADDED or MODIFIED) and records the event; `prevLabels` are the labels before a MODIFIED. */
  put(type: 'ADDED' | 'MODIFIED', obj: StoredResource, prevLabels: Labels): ChangeRecord {
    const json = JSON.stringify(obj);
    const { kind } = obj;
    const { namespace, name, resourceVersion, labels } = obj.metadata;
    const rv = Number(resourceVersion);
    const labelJson = labelsJson(labels);
    this.upsert.run(kind, namespace, name, rv, labelJson, json);
    this.insertEvent.run(rv, type, kind, namespace, name, labelJson, labelsJson(prevLabels), json);
    return { rv, type, kind, namespace, labels, prevLabels, json };
  }

  /** Removes the object and records the DELETED event carrying `deleted` (its last state at the new rv). */
  remove(deleted: StoredResource): ChangeRecord {
    const json = JSON.stringify(deleted);
    const { kind } = deleted;
    const { namespace, name, resourceVersion, labels } = deleted.metadata;
    const rv = Number(resourceVersion);
    this.deleteOne.run(kind, namespace, name);
    this.insertEvent.run(rv, 'DELETED', kind, namespace, name, labelsJson(labels), null, json);
    return { rv, type: 'DELETED', kind, namespace, labels, json };
  }

  oldestEventRv(): number | undefined {
    return this.oldest.get() ?? undefined;
  }

  /** Drops history at or below `rv`: a range delete on the rowid, cheap however long the table. */
  trimEvents(rv: number): void {
    if (rv > 0) this.trim.run(rv);
  }

  setResourceVersion(rv: number): void {
    this.setRv.run(rv);
  }
}
