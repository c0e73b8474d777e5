/**
 * The two label joins the registry needs, both within one namespace and both with `matchLabels` selectors
 * (every key=value must be present):
 *
 * - WorkloadIndex: which workloads does this selector pick? (building a service's endpoints)
 * - SelectorIndex: which selectors pick a workload with these labels? (a workload changed: what to rebuild)
 *
 * Both are posting lists keyed by namespace and one `key=value` pair, so a lookup costs the size of the
 * smallest candidate list rather than the namespace's size: a change to one of 3000 workloads finds its one
 * service without looking at the other 999.
 */
import type { Workload } from './workloads.js';

type Labels = Readonly<Record<string, string>>;

function postingKey(namespace: string, key: string, value: string): string {
  return `${namespace}\n${key}=${value}`;
}

/** Every key=value of `selector` is in `labels`. */
export function selects(selector: Labels, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector)) {
    if (!Object.prototype.hasOwnProperty.call(labels, k) || labels[k] !== v) return false;
  }
  return true;
}

function addTo(map: Map<string, Set<string>>, key: string, member: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(member);
}

function removeFrom(map: Map<string, Set<string>>, key: string, member: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(member);
  if (set.size === 0) map.delete(key);
}

export class WorkloadIndex {
  private readonly byKey = new Map<string, Workload>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly byLabel = new Map<string, Set<string>>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): Workload | undefined {
    return this.byKey.get(key);
  }

  put(workload: Workload): void {
    this.remove(workload.key);
    this.byKey.set(workload.key, workload);
    addTo(this.byNamespace, workload.namespace, workload.key);
    for (const [k, v] of Object.entries(workload.labels)) {
      addTo(this.byLabel, postingKey(workload.namespace, k, v), workload.key);
    }
  }

  remove(key: string): Workload | undefined {
    const old = this.byKey.get(key);
    if (!old) return undefined;
    this.byKey.delete(key);
    removeFrom(this.byNamespace, old.namespace, key);
    for (const [k, v] of Object.entries(old.labels)) removeFrom(this.byLabel, postingKey(old.namespace, k, v), key);
    return old;
  }

  /** The workloads of `namespace` that `selector` picks; an empty selector picks all of them. */
  select(namespace: string, selector: Labels): Workload[] {
    let smallest: ReadonlySet<string> | undefined = this.byNamespace.get(namespace);
    for (const [k, v] of Object.entries(selector)) {
      const posting = this.byLabel.get(postingKey(namespace, k, v));
      if (!posting) return [];
      if (!smallest || posting.size < smallest.size) smallest = posting;
    }
    const out: Workload[] = [];
    for (const key of smallest ?? []) {
      const w = this.byKey.get(key)!;
      if (selects(selector, w.labels)) out.push(w);
    }
    return out;
  }
}

interface Registered {
  namespace: string;
  selector: Labels;
  posting: string;
}

/** Sources (services) with a label selector, found from a workload's labels. */
export class SelectorIndex {
  private readonly bySource = new Map<string, Registered>();
  private readonly postings = new Map<string, Set<string>>();

  /** Registers (or with `selector` undefined, forgets) the selector of `source`. */
  set(source: string, namespace: string, selector: Labels | undefined): void {
    const old = this.bySource.get(source);
    if (old) {
      removeFrom(this.postings, old.posting, source);
      this.bySource.delete(source);
    }
    if (!selector) return;
    // Index under one pair: a selector can only match labels that contain it. An empty one matches all.
    const first = Object.keys(selector).sort()[0];
    const posting = first === undefined ? `${namespace}\n*` : postingKey(namespace, first, selector[first]!);
    this.bySource.set(source, { namespace, selector, posting });
    addTo(this.postings, posting, source);
  }

  /** The sources in `namespace` whose selector picks a workload labelled `labels`. */
  matching(namespace: string, labels: Labels): string[] {
    const out: string[] = [];
    const check = (candidates: ReadonlySet<string> | undefined): void => {
      for (const source of candidates ?? []) {
        if (selects(this.bySource.get(source)!.selector, labels)) out.push(source);
      }
    };
    check(this.postings.get(`${namespace}\n*`));
    for (const [k, v] of Object.entries(labels)) check(this.postings.get(postingKey(namespace, k, v)));
    return out;
  }
}
