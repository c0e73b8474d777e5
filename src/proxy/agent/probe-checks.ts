/**
 * One probe attempt of each Kubernetes handler kind, against the app beside the sidecar:
 * - httpGet: success is a status in [200, 400), as the kubelet judges it (HTTPS certificates are not verified);
 * - tcpSocket: success is an accepted connection;
 * - grpc: grpc.health.v1.Health/Check answering SERVING;
 * - exec: the command exits 0.
 * Each attempt is bounded by the probe's timeout and never throws: the outcome says why it failed.
 */
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Probe } from '../../api/kinds/pod-template.js';

export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

export type ProbeCheck = (timeoutMs: number) => Promise<ProbeOutcome>;

export interface ProbeTarget {
  /** The app's address (the pod IP). */
  host: string;
  /** Named container ports, for `port: http`. */
  ports?: Readonly<Record<string, number>>;
  /** Working directory for exec probes. */
  cwd?: string;
}

export function probeCheck(probe: Probe, target: ProbeTarget): ProbeCheck {
  const port = (p: number | string): number => (typeof p === 'number' ? p : (target.ports?.[p] ?? Number(p)));
  if (probe.httpGet) {
    const { path = '/', scheme = 'HTTP' } = probe.httpGet;
    const p = port(probe.httpGet.port);
    return (timeoutMs) => httpCheck(scheme, target.host, p, path, timeoutMs);
  }
  if (probe.tcpSocket) {
    const p = port(probe.tcpSocket.port);
    return (timeoutMs) => tcpCheck(target.host, p, timeoutMs);
  }
  if (probe.grpc) {
    const { port: p, service = '' } = probe.grpc;
    return (timeoutMs) => grpcCheck(target.host, p, service, timeoutMs);
  }
  if (probe.exec) {
    const command = probe.exec.command;
    return (timeoutMs) => execCheck(command, target.cwd, timeoutMs);
  }
  return () => Promise.resolve({ ok: false, message: 'the probe has no handler' });
}

function httpCheck(
  scheme: 'HTTP' | 'HTTPS',
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const req = (scheme === 'HTTPS' ? httpsRequest : httpRequest)(
      {
        host,
        port,
        path,
        method: 'GET',
        agent: false,
        timeout: timeoutMs,
        headers: { 'user-agent': 'shoal-probe/1' },
        rejectUnauthorized: false,
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, message: `HTTP probe answered ${code}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, message: `HTTP probe failed: ${err.message}` }));
    req.end();
  });
}

function tcpCheck(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, message: `TCP ${host}:${port} accepted` });
    });
    socket.once('timeout', () => socket.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    socket.once('error', (err) => resolve({ ok: false, message: `TCP probe failed: ${err.message}` }));
  });
}

/** grpc.health.v1 HealthCheckRequest { string service = 1 } and HealthCheckResponse { ServingStatus status = 1 }. */
const SERVING = 1;
const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function encodeHealthRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  if (name.length === 0) return Buffer.alloc(0);
  if (name.length > 127) throw new Error('gRPC probe service name too long');
  return Buffer.concat([Buffer.from([0x0a, name.length]), name]);
}

function decodeHealthStatus(bytes: Buffer): number {
  // The only field: tag 0x08 (field 1, varint); absent means 0 (UNKNOWN). Statuses are < 128, one byte.
  return bytes.length >= 2 && bytes[0] === 0x08 ? bytes[1]! : 0;
}

function grpcCheck(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const client = new Client(`${host}:${port}`, credentials.createInsecure());
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (b: Buffer) => b,
      (b: Buffer) => b,
      encodeHealthRequest(service),
      { deadline: Date.now() + timeoutMs },
      (err: ServiceError | null, reply?: Buffer) => {
        client.close();
        if (err) resolve({ ok: false, message: `gRPC probe failed: ${err.details || err.message}` });
        else {
          const status = decodeHealthStatus(reply ?? Buffer.alloc(0));
          resolve({ ok: status === SERVING, message: `gRPC health: ${STATUS_NAMES[status] ?? String(status)}` });
        }
      },
    );
  });
}

function execCheck(command: readonly string[], cwd: string | undefined, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), {
      cwd,
      stdio: 'ignore',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    child.once('error', (err) => resolve({ ok: false, message: `exec probe failed: ${err.message}` }));
    child.once('exit', (code, signal) =>
      resolve({ ok: code === 0, message: signal ? `exec probe killed (${signal})` : `exec probe exited ${code}` }),
    );
  });
}
