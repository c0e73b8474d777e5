/**
 * Bearer tokens and the client config.
 * - `shoal control` creates an admin token in its data directory on first start (`<data-dir>/admin-token`, 0600).
 * - It writes the client config (server URL + token) to SHOAL_CONFIG (default ~/.shoal/config), like a kubeconfig,
 *   so the CLI finds the server and the token without flags.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

export interface TokenChecker {
  check(token: string): boolean;
}

/** Checks against a set of tokens in constant time per candidate (compares hashes, so lengths never leak). */
export class TokenSet implements TokenChecker {
  private readonly hashes: Buffer[];

  constructor(tokens: readonly string[]) {
    this.hashes = tokens.map(sha256);
  }

  check(token: string): boolean {
    const h = sha256(token);
    let ok = false;
    for (const known of this.hashes) ok = timingSafeEqual(h, known) || ok;
    return ok;
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export const ADMIN_TOKEN_FILE = 'admin-token';

/** Reads `<dataDir>/admin-token`, creating it on first start. */
export function ensureAdminToken(dataDir: string): string {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return token;
  }
  const token = randomBytes(24).toString('base64url');
  writeAtomic(file, token + '\n', 0o600);
  return token;
}

export interface ClientConfig {
  server: string;
  token?: string;
  /** Written by `shoal up`: where its pod logs are (`shoal logs` reads them there). */
  dataDir?: string;
}

export function clientConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SHOAL_CONFIG ?? join(homedir(), '.shoal', 'config');
}

export function writeClientConfig(config: ClientConfig, path = clientConfigPath()): void {
  writeAtomic(
    path,
    toYaml({
      server: config.server,
      ...(config.token ? { token: config.token } : {}),
      ...(config.dataDir ? { dataDir: config.dataDir } : {}),
    }),
    0o600,
  );
}

export function readClientConfig(path = clientConfigPath()): ClientConfig | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = parseYaml(readFileSync(path, 'utf8')) as Partial<ClientConfig> | null;
  if (!parsed || typeof parsed.server !== 'string') return undefined;
  return {
    server: parsed.server,
    ...(typeof parsed.token === 'string' ? { token: parsed.token } : {}),
    ...(typeof parsed.dataDir === 'string' ? { dataDir: parsed.dataDir } : {}),
  };
}

function writeAtomic(file: string, content: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}
