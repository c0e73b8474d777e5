/**
 * One errors module for the whole product. Every expected failure is a ShoalError with a stable `reason`
 * (Kubernetes' StatusReason vocabulary, so the HTTP API can answer with a Status object as-is) and, for
 * validation failures, the field paths that caused it.
 */

export type Reason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

const STATUS_CODES: Record<Reason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

/** One problem with one field: `{ field: 'spec.http[0].route[1].weight', message: 'must be 0..100' }`. */
export interface FieldError {
  field: string;
  message: string;
}

export interface ErrorDetails {
  kind?: string;
  name?: string;
  group?: string;
  causes?: FieldError[];
}

export class ShoalError extends Error {
  readonly reason: Reason;
  readonly details: ErrorDetails;

  constructor(reason: Reason, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'ShoalError';
    this.reason = reason;
    this.details = details;
  }

  get code(): number {
    return STATUS_CODES[this.reason];
  }

  static notFound(kind: string, name: string): ShoalError {
    return new ShoalError('NotFound', `${kind.toLowerCase()} "${name}" not found`, { kind, name });
  }

  static alreadyExists(kind: string, name: string): ShoalError {
    return new ShoalError('AlreadyExists', `${kind.toLowerCase()} "${name}" already exists`, { kind, name });
  }

  static conflict(kind: string, name: string, message: string): ShoalError {
    return new ShoalError('Conflict', `Operation cannot be fulfilled on ${kind.toLowerCase()} "${name}": ${message}`, {
      kind,
      name,
    });
  }

  static invalid(kind: string, name: string, causes: FieldError[]): ShoalError {
    const summary = causes.map((c) => `${c.field}: ${c.message}`).join('; ');
    return new ShoalError('Invalid', `${kind} "${name}" is invalid: ${summary}`, { kind, name, causes });
  }

  static gone(message: string): ShoalError {
    return new ShoalError('Expired', message);
  }
}

export function statusCodeOf(reason: Reason): number {
  return STATUS_CODES[reason];
}

export function isShoalError(err: unknown, reason?: Reason): err is ShoalError {
  return err instanceof ShoalError && (reason === undefined || err.reason === reason);
}

/** Human-readable one-liner for any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
