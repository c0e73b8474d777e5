/**
 * What `shoal up` shows while pods start. On a terminal: a table (pod, address, state, restarts) redrawn in place
 * until everything is ready; after that, and whenever stdout is not a terminal, one plain line per change:
 *   pod/web-8c5fbd7q2k-x4k2n 127.1.0.2 starting
 *   pod/web-8c5fbd7q2k-x4k2n 127.1.0.2 ready
 *   pod/web-8c5fbd7q2k-x4k2n 127.1.0.2 crashed: app exited with code 3 (restarts 0)
 *   gateway/bookstore ready http://127.0.0.1:8080
 */
import type { PodView } from './deployment-controller.js';
import type { GatewayView } from './gateways.js';

type Row = { key: string; line: string; state: string };

export function podLine(p: PodView): string {
  const restarts = p.restarts > 0 ? ` (restarts ${p.restarts})` : '';
  return `pod/${p.name} ${p.ip ?? '-'} ${p.state}${p.message ? `: ${p.message}` : ''}${restarts}`;
}

export function gatewayLine(g: GatewayView): string {
  const detail = g.state === 'ready' ? ` ${g.urls.join(' ')}` : g.message ? `: ${g.message}` : '';
  return `gateway/${g.name} ${g.state}${detail}`;
}

export class LiveView {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  private live: boolean;

  constructor(
    private readonly out: NodeJS.WritableStream,
    tty: boolean,
  ) {
    this.live = tty;
  }

  pod(p: PodView): void {
    this.update(`pod/${p.namespace}/${p.name}`, podLine(p), p.state);
  }

  gateway(g: GatewayView): void {
    this.update(`gateway/${g.namespace}/${g.name}`, gatewayLine(g), g.state);
  }

  /** Ends the in-place table (drawn once more, as it is) and continues with plain lines. */
  settle(): void {
    if (!this.live) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.redraw();
    this.live = false;
    this.drawn = 0;
    for (const [key, row] of this.rows) if (row.state === 'gone') this.rows.delete(key);
  }

  /** A permanent line (the summary, errors). */
  print(text: string): void {
    if (this.live) {
      this.clear();
      this.out.write(text + '\n');
      this.redraw();
    } else this.out.write(text + '\n');
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.live) this.redraw();
  }

  private update(key: string, line: string, state: string): void {
    const previous = this.rows.get(key);
    if (previous?.line === line) return;
    if (state === 'gone' && !this.live) this.rows.delete(key);
    else this.rows.set(key, { key, line, state });
    if (!this.live) {
      this.out.write(line + '\n');
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.live) this.redraw();
    }, 50);
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private redraw(): void {
    this.clear();
    const lines = [...this.rows.values()].filter((r) => r.state !== 'gone').map((r) => r.line);
    if (lines.length === 0) return;
    this.out.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }
}
