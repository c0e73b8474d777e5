/** An acknowledged write survives `kill -9` of the control plane (SPEC: Promises under failure). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControl } from '../helpers/processes.js';

const PATH = '/api/v1/namespaces/default/services';

test('every write the API acknowledged is there after kill -9 and restart', async () => {
  const first = await startControl();
  const acked: string[] = [];
  let stop = false;
  let lastRv = 0;
  // Four concurrent writers, as clients would be; each records a name only after its 201 arrived.
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; !stop && i < 10_000; i++) {
      const name = `svc-${w}-${i}`;
      try {
        const res = await fetch(first.url + PATH, {
          method: 'POST',
          headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name },
            spec: { ports: [{ port: 80 }] },
          }),
        });
        if (res.status !== 201) return;
        const body = (await res.json()) as { metadata: { resourceVersion: string } };
        lastRv = Math.max(lastRv, Number(body.metadata.resourceVersion));
        acked.push(name);
        if (acked.length >= 300) {
          stop = true;
          first.proc.kill('SIGKILL');
        }
      } catch {
        return; // the connection died with the process: this write was never acknowledged
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map(writer));
  await first.kill();
  assert.ok(acked.length >= 300, `acknowledged ${acked.length}`);

  const second = await startControl({ dataDir: first.dataDir });
  try {
    const list = (await (await fetch(second.url + PATH)).json()) as {
      metadata: { resourceVersion: string };
      items: { metadata: { name: string } }[];
    };
    const present = new Set(list.items.map((i) => i.metadata.name));
    const lost = acked.filter((n) => !present.has(n));
    assert.deepEqual(lost, [], 'no acknowledged write is lost');
    assert.ok(Number(list.metadata.resourceVersion) >= lastRv);
    // The store keeps counting from where it was.
    const res = await fetch(second.url + PATH, {
      method: 'POST',
      headers: { authorization: `Bearer ${second.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'after-restart' },
        spec: { ports: [{ port: 80 }] },
      }),
    });
    assert.equal(res.status, 201);
    const created = (await res.json()) as { metadata: { resourceVersion: string } };
    assert.ok(Number(created.metadata.resourceVersion) > lastRv);
  } finally {
    assert.equal(await second.stop(), 0);
  }
});
