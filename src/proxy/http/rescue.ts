/**
 * The rescue table (linkerd's term): every way the mesh itself can fail a request maps to one synthetic response:
 * a status code, a short text body and the `x-shoal-response-flags` header with Envoy's response-flag codes, so a
 * user sees at a glance whether the app or the mesh answered, and why. Responses are prebuilt once; the hot path
 * only looks them up.
 */

/** Envoy's response flags (the subset the sidecar can raise). */
export type ResponseFlag =
  | 'NR' // no route configured for the request
  | 'NC' // no cluster: the route names a cluster the proxy does not have
  | 'UH' // no healthy upstream host
  | 'UF' // upstream connection failure
  | 'UR' // upstream remote reset
  | 'UC' // upstream connection termination
  | 'UT' // upstream request timeout
  | 'URX' // upstream retry limit exceeded
  | 'UO' // upstream overflow (circuit breaking)
  | 'RL' // rate limited
  | 'FI' // fault injected (abort)
  | 'DI' // delay injected (not a failure on its own)
  | 'UAEX' // unauthorized by an external/authorization check
  | 'DC' // downstream connection termination
  | 'DPE'; // downstream protocol error

export const RESPONSE_FLAGS_HEADER = 'x-shoal-response-flags';

export interface Rescue {
  flag: ResponseFlag;
  status: number;
  body: string;
  /** gRPC status for requests whose content-type is application/grpc (answered as a trailers-only response). */
  grpcStatus: number;
}

/** gRPC codes: UNAVAILABLE 14, DEADLINE_EXCEEDED 4, UNIMPLEMENTED 12, RESOURCE_EXHAUSTED 8, PERMISSION_DENIED 7. */
const TABLE: Record<ResponseFlag, Omit<Rescue, 'flag'>> = {
  NR: { status: 404, body: 'no route matched the request', grpcStatus: 12 },
  NC: { status: 503, body: 'the route names an unknown cluster', grpcStatus: 14 },
  UH: { status: 503, body: 'no healthy upstream', grpcStatus: 14 },
  UF: { status: 503, body: 'upstream connect error', grpcStatus: 14 },
  UR: { status: 503, body: 'upstream reset the request', grpcStatus: 14 },
  UC: { status: 503, body: 'upstream connection terminated', grpcStatus: 14 },
  UT: { status: 504, body: 'upstream request timeout', grpcStatus: 4 },
  URX: { status: 503, body: 'upstream retries exhausted', grpcStatus: 14 },
  UO: { status: 503, body: 'upstream overflow: circuit breaker open', grpcStatus: 14 },
  RL: { status: 429, body: 'rate limited', grpcStatus: 8 },
  FI: { status: 503, body: 'fault filter abort', grpcStatus: 14 },
  DI: { status: 200, body: '', grpcStatus: 0 },
  UAEX: { status: 403, body: 'RBAC: access denied', grpcStatus: 7 },
  DC: { status: 499, body: 'downstream disconnected', grpcStatus: 1 },
  DPE: { status: 400, body: 'bad request', grpcStatus: 13 },
};

const RESCUES = new Map<ResponseFlag, Rescue>(
  (Object.keys(TABLE) as ResponseFlag[]).map((flag) => [flag, Object.freeze({ flag, ...TABLE[flag] })]),
);

export function rescueFor(flag: ResponseFlag): Rescue {
  return RESCUES.get(flag)!;
}

/** Raised inside the proxy for a failure the rescue table answers; `flags` may carry more than one (UF,URX). */
export class ProxyFailure extends Error {
  constructor(
    readonly flag: ResponseFlag,
    readonly detail = '',
    readonly extraFlags: readonly ResponseFlag[] = [],
    /** Overrides the table's status (a fault abort's configured status). */
    readonly status?: number,
  ) {
    super(detail ? `${flag}: ${detail}` : flag);
    this.name = 'ProxyFailure';
  }

  get flags(): string {
    return this.extraFlags.length === 0 ? this.flag : [this.flag, ...this.extraFlags].join(',');
  }
}

export interface SyntheticResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The response for a failure; gRPC requests get a trailers-only style answer (HTTP 200 + grpc-status). */
export function syntheticResponse(failure: ProxyFailure, grpc: boolean): SyntheticResponse {
  const r = rescueFor(failure.flag);
  const status = failure.status ?? r.status;
  if (grpc) {
    return {
      status: 200,
      headers: {
        'content-type': 'application/grpc',
        'grpc-status': String(r.grpcStatus),
        'grpc-message': encodeURIComponent(r.body),
        [RESPONSE_FLAGS_HEADER]: failure.flags,
      },
      body: '',
    };
  }
  const body = `${r.body}\n`;
  return {
    status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      [RESPONSE_FLAGS_HEADER]: failure.flags,
    },
    body,
  };
}
