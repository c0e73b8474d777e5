/** Kubernetes `Status` objects: every error the API answers is one. */
import { ShoalError, errorMessage } from '../../core/errors.js';

export interface StatusCause {
  reason: string;
  field: string;
  message: string;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message: string;
  reason: string;
  code: number;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
}

export function statusFromError(err: unknown): Status {
  if (err instanceof ShoalError) {
    const { causes, ...rest } = err.details;
    const details = {
      ...rest,
      ...(causes
        ? { causes: causes.map((c) => ({ reason: 'FieldValueInvalid', field: c.field, message: c.message })) }
        : {}),
    };
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: err.message,
      reason: err.reason,
      code: err.code,
      ...(Object.keys(details).length > 0 ? { details } : {}),
    };
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `internal error: ${errorMessage(err)}`,
    reason: 'InternalError',
    code: 500,
  };
}
