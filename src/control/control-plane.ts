/**
 * The control-plane process: the store, the HTTP API and (as they land) the xDS server, CA and DNS,
 * wired together. `shoal control` is a thin CLI over this class; tests start it in-process too.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { ApiServer } from './api/server.js';
import { ResourceService } from './api/resources.js';
import { TokenSet, ensureAdminToken } from './auth.js';

export interface ControlPlaneOptions {
  dataDir: string;
  /** `sqlite` (default) or `etcd://host:port,host:port`. */
  store?: string;
  /** Address the HTTP API binds; loopback by default. */
  host?: string;
  httpPort?: number;
  logger: Logger;
}

export interface ControlPlaneAddresses {
  http: { host: string; port: number; url: string };
}

export class ControlPlane {
  private store?: Store;
  private api?: ApiServer;
  adminToken = '';

  constructor(private readonly opts: ControlPlaneOptions) {}

  async start(): Promise<ControlPlaneAddresses> {
    const { dataDir, logger } = this.opts;
    mkdirSync(dataDir, { recursive: true });
    this.store = openStore(this.opts.store ?? 'sqlite', dataDir);
    this.adminToken = ensureAdminToken(dataDir);
    const resources = new ResourceService(this.store);
    this.api = new ApiServer({
      resources,
      tokens: new TokenSet([this.adminToken]),
      logger: logger.child({ component: 'api' }),
    });
    const host = this.opts.host ?? '127.0.0.1';
    const addr = await this.api.listen(this.opts.httpPort ?? 15014, host);
    const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { http: { host: addr.address, port: addr.port, url: `http://${urlHost}:${addr.port}` } };
  }

  /** Drains the API (in-flight requests finish, watches end), then checkpoints and closes the store. */
  async stop(): Promise<void> {
    await this.api?.stop();
    await this.store?.close();
  }

  get storeInstance(): Store {
    if (!this.store) throw new Error('control plane not started');
    return this.store;
  }
}

function openStore(spec: string, dataDir: string): Store {
  if (spec === 'sqlite') return SqliteStore.open({ path: join(dataDir, 'shoal.db') });
  if (spec.startsWith('etcd://')) {
    throw new ShoalError(
      'BadRequest',
      `--store ${spec}: the etcd store is not available in this version yet; use --store sqlite`,
    );
  }
  throw new ShoalError('BadRequest', `--store ${spec}: expected "sqlite" or "etcd://host:port[,host:port...]"`);
}
