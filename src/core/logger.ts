/**
 * Every long-running command logs one JSON object per line to stderr (pino); `--log-format text` renders the
 * same records as `time LEVEL [component] message key=value` for people.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;
export type LogFormat = 'json' | 'text';

export interface LoggerOptions {
  format?: LogFormat;
  level?: string;
  name?: string;
  /** Where lines go; stderr by default. */
  stream?: NodeJS.WritableStream;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'component']);

/** Renders one pino JSON record as a line of text. Exported for tests. */
export function formatTextRecord(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString() : '';
  const level = LEVEL_NAMES[rec.level as number] ?? String(rec.level);
  const component = typeof rec.component === 'string' ? ` [${rec.component}]` : '';
  const extras = Object.entries(rec)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level.padEnd(5)}${component} ${typeof rec.msg === 'string' ? rec.msg : JSON.stringify(rec.msg ?? '')}${extras ? ' ' + extras : ''}\n`;
}

function textStream(out: NodeJS.WritableStream): DestinationStream {
  return {
    write(chunk: string): void {
      for (const line of chunk.split('\n')) if (line) out.write(formatTextRecord(line));
    },
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const out = options.stream ?? process.stderr;
  const dest: DestinationStream =
    options.format === 'text'
      ? textStream(out)
      : out === process.stderr
        ? pino.destination({ fd: 2, sync: true })
        : { write: (s: string) => void out.write(s) };
  return pino(
    {
      level: options.level ?? process.env.SHOAL_LOG_LEVEL ?? 'info',
      base: options.name ? { name: options.name } : {},
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    dest,
  );
}

/** A logger that discards everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
