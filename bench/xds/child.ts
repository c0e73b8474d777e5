/**
 * A child process of the benchmark with a typed IPC channel: messages are queued by type and awaited with a timeout;
 * a `failed` message or an early exit rejects every waiter. Stopped by its own PID (a polite `stop` message first,
 * SIGKILL if it is still there after a grace period).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Typed = { type: string };

export class Child<In extends Typed, Out extends Typed> {
  private readonly queues = new Map<string, Out[]>();
  private readonly waiters = new Set<{ type: string; resolve: (m: Out) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;
  private problem?: Error;
  stderr = '';

  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    proc.on('message', (message: unknown) => this.receive(message as Out));
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.failAll(new Error(`${name} exited (${code ?? signal}) ${this.stderr.trim().slice(-500)}`));
        resolve();
      });
    });
  }

  /** Forks `script` (a path relative to this module, compiled) with `config` as its JSON argument. */
  static fork<In extends Typed, Out extends Typed>(
    name: string,
    script: string,
    config: unknown,
    options: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {},
  ): Child<In, Out> {
    const path = fileURLToPath(new URL(script, import.meta.url));
    const proc = fork(path, [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      execArgv: options.execArgv ?? [],
      env: options.env ?? process.env,
    });
    return new Child<In, Out>(name, proc);
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  send(message: In): void {
    this.proc.send(message);
  }

  /** The next message of `type` (queued or future); rejects after `timeoutMs`, on `failed`, or on exit. */
  next<T extends Out['type']>(type: T, timeoutMs: number, what: string = type): Promise<Extract<Out, { type: T }>> {
    const queued = this.queues.get(type)?.shift();
    if (queued !== undefined) return Promise.resolve(queued as Extract<Out, { type: T }>);
    if (this.problem) return Promise.reject(this.problem);
    return new Promise((resolve, reject) => {
      const waiter = {
        type,
        resolve: (m: Out) => {
          clearTimeout(timer);
          resolve(m as Extract<Out, { type: T }>);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Asks the child to stop, then kills it by PID if it has not exited within `graceMs`. */
  async stop(stopMessage: In, graceMs = 5_000): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null && this.proc.connected) {
      this.proc.send(stopMessage);
    }
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (this.proc.exitCode === null && this.proc.signalCode === null) process.kill(this.pid, 'SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    await this.exited;
  }

  private receive(message: Out): void {
    if (message.type === 'failed') {
      const text = (message as unknown as { message?: string }).message ?? 'failed';
      this.failAll(new Error(`${this.name}: ${text}`));
      return;
    }
    for (const waiter of this.waiters) {
      if (waiter.type === message.type) {
        this.waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
    const queue = this.queues.get(message.type) ?? [];
    queue.push(message);
    this.queues.set(message.type, queue);
  }

  private failAll(error: Error): void {
    this.problem ??= error;
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }
}
