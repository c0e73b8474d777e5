/**
 * Plain TCP through the mesh, with real processes: the app sends `CONNECT <service>:<port>` to its sidecar's
 * outbound listener; the client sidecar tunnels to the server sidecar (CONNECT to the app port on the peer's pod
 * address), which connects to its app. Also CONNECT passthrough to a host outside the mesh (a ServiceEntry), and
 * the refusals: unknown authority (NR) and a peer sidecar asked to tunnel somewhere other than its own pod.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCli, startControl, type RunningControl } from '../helpers/processes.js';
import { podIp, startSidecar, type SidecarProcess } from '../helpers/sidecars.js';
import { waitUntil } from '../helpers/grpc-xds.js';

/** A TCP server that prefixes every chunk it echoes with `name:`. */
async function echoServer(host: string, name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('data', (d: Buffer) => socket.write(`${name}:${d.toString()}`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const a = server.address();
  return { server, port: typeof a === 'object' && a !== null ? a.port : 0 };
}

/** CONNECT through a proxy; resolves the status line and, on 200, the open socket. */
function tunnel(proxyHost: string, proxyPort: number, authority: string): Promise<{ status: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: proxyHost, port: proxyPort });
    let head = '';
    socket.on('error', reject);
    socket.once('connect', () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n\r\n`));
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve({ status: head.slice(0, head.indexOf('\r\n')), socket });
    };
    socket.on('data', onData);
  });
}

function exchange(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no echo for ${text}; got "${got}"`)), 5000);
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.endsWith(text)) {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        resolve(got);
      }
    });
    socket.write(text);
  });
}

describe('TCP through sidecars via CONNECT (real processes)', () => {
  let control: RunningControl;
  let app: { server: Server; port: number };
  let outside: { server: Server; port: number };
  let server: SidecarProcess;
  let client: SidecarProcess;
  const sockets: Socket[] = [];

  before(async () => {
    control = await startControl();
    const serverIp = podIp();
    const outsideIp = podIp();
    app = await echoServer(serverIp, 'db-1');
    outside = await echoServer(outsideIp, 'outside');
    const yaml = `
apiVersion: v1
kind: Service
metadata: { name: db }
spec:
  selector: { app: db }
  ports: [{ name: tcp, port: 7000, protocol: TCP, targetPort: tcp }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: outside }
spec:
  hosts: [secure.example.com]
  ports: [{ number: 443, name: tls, protocol: TLS, targetPort: ${outside.port} }]
  resolution: STATIC
  endpoints: [{ address: ${outsideIp} }]
`;
    const applied = await runCli(['apply', '-f', '-'], control.env, yaml);
    assert.equal(applied.code, 0, applied.stderr);
    server = startSidecar({
      xds: control.xds,
      workload: 'db-1',
      appPort: app.port,
      podIp: serverIp,
      labels: { app: 'db' },
      args: [
        '--ports',
        `tcp=${app.port}`,
        '--readiness-probe',
        JSON.stringify({ tcpSocket: { port: app.port }, periodSeconds: 1 }),
      ],
    });
    client = startSidecar({ xds: control.xds, workload: 'client', appPort: 9, args: ['--readiness-probe', 'none'] });
    await Promise.all([server.ready, client.ready]);
    await waitUntil(
      async () => {
        const t = await tunnel(client.podIp, 15001, 'db.default.svc.cluster.local:7000');
        t.socket.destroy();
        return t.status.includes(' 200 ');
      },
      10_000,
      'a tunnel to db',
    );
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([client?.kill(), server?.kill()]);
    app?.server.close();
    outside?.server.close();
    await control?.kill();
  });

  it('tunnels to a TCP service through both sidecars, both ways', async () => {
    const t = await tunnel(client.podIp, 15001, 'db.default.svc.cluster.local:7000');
    sockets.push(t.socket);
    assert.match(t.status, /^HTTP\/1\.1 200/);
    assert.equal(await exchange(t.socket, 'hello'), 'db-1:hello');
    assert.equal(await exchange(t.socket, 'again'), 'db-1:again');
  });

  it('reaches the app by its short name and service port', async () => {
    const t = await tunnel(client.podIp, 15001, 'db:7000');
    sockets.push(t.socket);
    assert.match(t.status, / 200 /);
    assert.equal(await exchange(t.socket, 'x'), 'db-1:x');
  });

  it('passes CONNECT through to a host outside the mesh (ServiceEntry)', async () => {
    const t = await tunnel(client.podIp, 15001, 'secure.example.com:443');
    sockets.push(t.socket);
    assert.match(t.status, / 200 /);
    assert.equal(await exchange(t.socket, 'tls-bytes'), 'outside:tls-bytes');
  });

  it('answers a CONNECT to an unknown authority 404 NR', async () => {
    const t = await tunnel(client.podIp, 15001, 'nowhere.example.org:443');
    sockets.push(t.socket);
    assert.match(t.status, /^HTTP\/1\.1 404/);
  });

  it('a sidecar tunnels inbound only to its own pod address', async () => {
    const own = await tunnel(server.podIp, 15006, `${server.podIp}:${app.port}`);
    sockets.push(own.socket);
    assert.match(own.status, / 200 /);
    const elsewhere = await tunnel(server.podIp, 15006, `127.0.0.1:${app.port}`);
    sockets.push(elsewhere.socket);
    assert.match(elsewhere.status, /^HTTP\/1\.1 404/);
  });
});
