/**
 * The CLI's client for the control plane's HTTP API. Server and token come from --server/--token, then
 * SHOAL_SERVER/SHOAL_TOKEN, then the client config that `shoal control` and `shoal up` write (SHOAL_CONFIG).
 */
import type { KindDefinition } from '../api/kind.js';
import type { Resource } from '../api/resource.js';
import { readClientConfig } from '../control/auth.js';
import { resourcePath } from '../control/api/paths.js';
import type { Status } from '../control/api/status.js';
import { ShoalError, errorMessage, type Reason } from '../core/errors.js';

export interface ConnectionOptions {
  server?: string;
  token?: string;
}

export interface ListResponse {
  metadata: { resourceVersion: string };
  items: Resource[];
}

export const DEFAULT_SERVER = 'http://127.0.0.1:15014';

export class ApiClient {
  readonly server: string;
  private readonly token?: string;

  constructor(opts: ConnectionOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    const config = readClientConfig(env.SHOAL_CONFIG);
    this.server = (opts.server ?? env.SHOAL_SERVER ?? config?.server ?? DEFAULT_SERVER).replace(/\/$/, '');
    this.token = opts.token ?? env.SHOAL_TOKEN ?? config?.token;
  }

  get(def: KindDefinition, namespace: string, name: string): Promise<Resource> {
    return this.request<Resource>('GET', resourcePath(def, namespace, name));
  }

  /** Resolves undefined for NotFound. */
  async find(def: KindDefinition, namespace: string, name: string): Promise<Resource | undefined> {
    try {
      return await this.get(def, namespace, name);
    } catch (err) {
      if (err instanceof ShoalError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  }

  list(def: KindDefinition, namespace: string | undefined, labelSelector?: string): Promise<ListResponse> {
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    return this.request<ListResponse>('GET', resourcePath(def, namespace) + q);
  }

  create(def: KindDefinition, obj: Resource): Promise<Resource> {
    return this.request<Resource>('POST', resourcePath(def, obj.metadata.namespace), obj);
  }

  replace(def: KindDefinition, obj: Resource): Promise<Resource> {
    return this.request<Resource>('PUT', resourcePath(def, obj.metadata.namespace, obj.metadata.name), obj);
  }

  /** JSON merge patch (RFC 7386), as `kubectl patch --type merge` sends it. */
  patch(def: KindDefinition, namespace: string, name: string, patch: unknown): Promise<Resource> {
    return this.request<Resource>('PATCH', resourcePath(def, namespace, name), patch, 'application/merge-patch+json');
  }

  /**
   * Opens `?watch=true` from `resourceVersion` and calls onEvent for every event line until the stream ends
   * (resolves) or fails (rejects; a too-old resourceVersion rejects with ShoalError 'Expired'). `signal` ends it.
   */
  async watch(
    def: KindDefinition,
    namespace: string | undefined,
    resourceVersion: string,
    onEvent: (event: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Resource }) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const path = `${resourcePath(def, namespace)}?watch=true&resourceVersion=${encodeURIComponent(resourceVersion)}`;
    let res: Response;
    try {
      res = await fetch(this.server + path, { headers: { accept: 'application/json' }, signal });
    } catch (err) {
      if (signal?.aborted) return;
      throw new ShoalError(
        'ServiceUnavailable',
        `watch ${def.plural}: ${errorMessage((err as { cause?: unknown }).cause ?? err)}`,
      );
    }
    if (!res.ok || !res.body) {
      const status = (await res.json().catch(() => undefined)) as Partial<Status> | undefined;
      throw new ShoalError(
        (status?.reason ?? 'InternalError') as Reason,
        status?.message ?? `watch answered ${res.status}`,
      );
    }
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line !== '') onEvent(JSON.parse(line) as { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Resource });
        }
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
  }

  delete(def: KindDefinition, namespace: string, name: string): Promise<Resource> {
    return this.request<Resource>('DELETE', resourcePath(def, namespace, name));
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = contentType;
    if (this.token && method !== 'GET') headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.server + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      throw new ShoalError(
        'ServiceUnavailable',
        `unable to connect to the server at ${this.server}: ${errorMessage(cause ?? err)}`,
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const status = parsed as Partial<Status> | undefined;
      if (status?.kind === 'Status') {
        throw new ShoalError((status.reason ?? 'InternalError') as Reason, status.message ?? text, {
          ...(status.details?.name ? { name: status.details.name } : {}),
          ...(status.details?.causes
            ? { causes: status.details.causes.map((c) => ({ field: c.field, message: c.message })) }
            : {}),
        });
      }
      throw new ShoalError('InternalError', `the server answered ${res.status}: ${text.slice(0, 200)}`);
    }
    return parsed as T;
  }
}
