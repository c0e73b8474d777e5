/**
 * An acknowledged write survives kill -9 (SPEC: "Promises under failure"). A real child process writes to a
 * SqliteStore and prints each acknowledged create; we SIGKILL it mid-stream, reopen the same file, and check
 * that every acknowledged object is there at its acknowledged resourceVersion and that versions go on above.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const WRITER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'store-writer.js');
const KILL_AFTER = 200;

const root = mkdtempSync(join(tmpdir(), 'shoal-durability-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  acks: Map<string, number>;
  signal: NodeJS.Signals | null;
}

/** Runs the writer until KILL_AFTER acks, SIGKILLs it, and collects every ack it printed before dying. */
function writeThenKill(path: string, mode: 'FULL' | 'NORMAL'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, path, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks = new Map<string, number>();
    let buffered = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer did not reach ${KILL_AFTER} acks in time; stderr: ${stderr}`));
    }, 30_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^ACK (\S+) (\d+)$/.exec(line);
        if (m) acks.set(m[1]!, Number(m[2]));
        else if (line !== 'READY') reject(new Error(`unexpected writer output: ${line}`));
      }
      if (!killed && acks.size >= KILL_AFTER) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!killed) reject(new Error(`writer exited on its own (code ${code}); stderr: ${stderr}`));
      else resolve({ acks, signal });
    });
  });
}

void describe('SqliteStore durability under kill -9', () => {
  for (const mode of ['FULL', 'NORMAL'] as const) {
    void it(`synchronous=${mode}: every acknowledged create survives, and versions continue above`, async () => {
      const path = join(root, mode, 'store.db');
      const run = await writeThenKill(path, mode);
      assert.equal(run.signal, 'SIGKILL');
      assert.ok(run.acks.size >= KILL_AFTER);
      const store = SqliteStore.open({ path });
      try {
        const missing: string[] = [];
        for (const [name, rv] of run.acks) {
          const got = await store.get('Service', 'default', name);
          if (got?.metadata.resourceVersion !== String(rv)) missing.push(`${name}@${rv}`);
        }
        assert.deepEqual(missing, [], `acknowledged but lost or changed after kill -9`);
        const lastAcked = Math.max(...run.acks.values());
        const current = Number(await store.currentVersion());
        assert.ok(current >= lastAcked, `current ${current} < last acked ${lastAcked}`);
        const listed = await store.list('Service');
        assert.equal(listed.items.length, current, 'one object per version: no torn or partial batch');
        const next = await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'after-crash' } });
        assert.equal(Number(next.metadata.resourceVersion), current + 1);
      } finally {
        await store.close();
      }
    });
  }
});
