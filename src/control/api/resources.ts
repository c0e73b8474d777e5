/**
 * The API's verbs over the store, independent of HTTP: checks that the body fits the path, validates it with
 * the kind's schema, stores it under the kind's preferred apiVersion and serves it back in the version the
 * client asked for (all served versions of a kind share one schema, so conversion is a relabel).
 */
import type { KindDefinition } from '../../api/kind.js';
import { apiVersionOf } from '../../api/kind.js';
import type { Resource, StoredResource } from '../../api/resource.js';
import { DEFAULT_NAMESPACE } from '../../api/resource.js';
import { validateResource } from '../../api/validate.js';
import { ShoalError } from '../../core/errors.js';
import type { LabelSelector } from '../../store/label-selector.js';
import type { Store, Watch, WatchEvent } from '../../store/store.js';
import type { AdmissionPlugin } from './admission.js';
import { applyMergePatch } from './merge-patch.js';

export interface ListObject {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string };
  items: Resource[];
}

export class ResourceService {
  constructor(
    readonly store: Store,
    private readonly admission: ReadonlyMap<string, AdmissionPlugin> = new Map(),
  ) {}

  async get(def: KindDefinition, version: string, namespace: string, name: string): Promise<Resource> {
    const obj = await this.store.get(def.kind, namespace, name);
    if (!obj) throw notFound(def, name);
    return served(obj, def, version);
  }

  async list(
    def: KindDefinition,
    version: string,
    namespace?: string,
    labelSelector?: LabelSelector,
  ): Promise<ListObject> {
    const { items, resourceVersion } = await this.store.list(def.kind, { namespace, labelSelector });
    return {
      apiVersion: apiVersionOf(def, version),
      kind: `${def.kind}List`,
      metadata: { resourceVersion },
      items: items.map((o) => served(o, def, version)),
    };
  }

  async create(def: KindDefinition, version: string, namespace: string | undefined, body: unknown): Promise<Resource> {
    const obj = this.admit(def, body, namespace, undefined);
    delete obj.metadata.resourceVersion;
    const plugin = this.admission.get(def.kind);
    plugin?.beforeCreate?.(obj);
    try {
      return served(await this.store.create(obj), def, version);
    } catch (err) {
      plugin?.createFailed?.(obj);
      throw renamed(err, def);
    }
  }

  async replace(
    def: KindDefinition,
    version: string,
    namespace: string,
    name: string,
    body: unknown,
  ): Promise<Resource> {
    const obj = this.admit(def, body, namespace, name);
    const plugin = this.admission.get(def.kind);
    if (plugin?.beforeUpdate) {
      const current = await this.store.get(def.kind, namespace, name);
      if (!current) throw notFound(def, name);
      plugin.beforeUpdate(obj, current);
    }
    try {
      return served(await this.store.update(obj), def, version);
    } catch (err) {
      throw renamed(err, def);
    }
  }

  async patch(
    def: KindDefinition,
    version: string,
    namespace: string,
    name: string,
    patch: unknown,
  ): Promise<Resource> {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw new ShoalError('BadRequest', 'a merge patch must be a JSON object');
    }
    const current = await this.store.get(def.kind, namespace, name);
    if (!current) throw notFound(def, name);
    const merged = applyMergePatch(served(current, def, version), patch) as Resource;
    // The patch may carry a resourceVersion precondition; otherwise patch the version just read.
    const patchMeta = (patch as { metadata?: { resourceVersion?: unknown } }).metadata;
    if (typeof patchMeta?.resourceVersion !== 'string' && merged.metadata) {
      merged.metadata.resourceVersion = current.metadata.resourceVersion;
    }
    return this.replace(def, version, namespace, name, merged);
  }

  async delete(
    def: KindDefinition,
    version: string,
    namespace: string,
    name: string,
    resourceVersion?: string,
  ): Promise<Resource> {
    try {
      const deleted = await this.store.delete(def.kind, namespace, name, { resourceVersion });
      this.admission.get(def.kind)?.afterDelete?.(deleted);
      return served(deleted, def, version);
    } catch (err) {
      throw renamed(err, def);
    }
  }

  watch(
    def: KindDefinition,
    version: string,
    options: { namespace?: string; labelSelector?: LabelSelector; resourceVersion?: string },
    onEvent: (event: WatchEvent) => void,
    onError: (err: Error) => void,
  ): Promise<Watch> {
    return this.store.watch(
      { kind: def.kind, ...options },
      (event) => onEvent({ type: event.type, object: served(event.object, def, version) as StoredResource }),
      onError,
    );
  }

  /** Checks a body against the path, validates it and returns it in stored form. */
  private admit(def: KindDefinition, body: unknown, namespace: string | undefined, name: string | undefined): Resource {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ShoalError('BadRequest', 'the request body must be a single object');
    }
    const input = body as Partial<Resource>;
    if (input.kind !== undefined && input.kind !== def.kind) {
      throw new ShoalError(
        'BadRequest',
        `the kind in the body (${String(input.kind)}) does not match the path (${def.kind})`,
      );
    }
    if (input.apiVersion !== undefined && !def.versions.some((v) => apiVersionOf(def, v) === input.apiVersion)) {
      throw new ShoalError(
        'BadRequest',
        `the apiVersion in the body (${String(input.apiVersion)}) is not served for ${def.kind} at this path (${def.versions.map((v) => apiVersionOf(def, v)).join(', ')})`,
      );
    }
    const meta = (input.metadata ?? {}) as Resource['metadata'];
    if (namespace !== undefined && meta.namespace !== undefined && meta.namespace !== namespace) {
      throw new ShoalError(
        'BadRequest',
        `the namespace of the object (${meta.namespace}) does not match the namespace of the request (${namespace})`,
      );
    }
    if (name !== undefined && meta.name !== undefined && meta.name !== name) {
      throw new ShoalError(
        'BadRequest',
        `the name of the object (${String(meta.name)}) does not match the name in the URL (${name})`,
      );
    }
    const candidate = {
      ...input,
      apiVersion: input.apiVersion ?? apiVersionOf(def),
      kind: def.kind,
      metadata: { ...meta, name: meta.name ?? name, namespace: meta.namespace ?? namespace ?? DEFAULT_NAMESPACE },
    };
    const result = validateResource(candidate);
    if (!result.ok) throw ShoalError.invalid(def.kind, String(candidate.metadata.name ?? ''), result.error);
    return { ...result.value, apiVersion: apiVersionOf(def) };
  }
}

function served(obj: StoredResource, def: KindDefinition, version: string): Resource {
  return { ...obj, apiVersion: apiVersionOf(def, version) };
}

function qualified(def: KindDefinition): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}

function notFound(def: KindDefinition, name: string): ShoalError {
  return new ShoalError('NotFound', `${qualified(def)} "${name}" not found`, {
    kind: def.plural,
    group: def.group,
    name,
  });
}

/** Store errors name the kind; the API names the resource the way Kubernetes does (`virtualservices.networking.istio.io`). */
function renamed(err: unknown, def: KindDefinition): unknown {
  if (!(err instanceof ShoalError) || err.details.name === undefined) return err;
  const name = err.details.name;
  const base = { kind: def.plural, group: def.group, name };
  switch (err.reason) {
    case 'NotFound':
      return notFound(def, name);
    case 'AlreadyExists':
      return new ShoalError('AlreadyExists', `${qualified(def)} "${name}" already exists`, base);
    case 'Conflict':
      return new ShoalError(
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        base,
      );
    default:
      return err;
  }
}
