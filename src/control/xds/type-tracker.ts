/**
 * Per stream and per type URL: what the server last sent (version, nonce), whether the client has answered it, and
 * how (ACK or NACK with its error_detail). This is both the protocol's bookkeeping (which request is an ACK, which
 * nonce is stale, whether a response is outstanding) and what `/debug/syncz` and `shoal proxy-status` report.
 *
 * Status, after Istio's proxy-status: NOT_SENT (subscribed, nothing sent yet), STALE (a response is awaiting its ACK,
 * or a newer configuration is queued behind it), SYNCED (the latest response was ACKed), NACKED (the latest response
 * was rejected; the client stays on `ackedVersion`).
 */
import type { StatusMessage } from './ads-service.js';
import type { XdsResourceType } from './resource-types.js';

export type SyncStatus = 'NOT_SENT' | 'STALE' | 'SYNCED' | 'NACKED';

/** How a request relates to the responses sent for its type. */
export type ReplyKind = 'initial' | 'ack' | 'nack' | 'stale' | 'repeat';

/** NACK messages are kept up to this many characters. */
const MAX_NACK_MESSAGE = 4096;

export interface NackRecord {
  nonce: string;
  /** The version the client rejected. */
  rejectedVersion: string;
  code: number;
  message: string;
  at: string;
}

export interface TypeStatus {
  typeUrl: string;
  shortName: string;
  status: SyncStatus;
  wildcard: boolean;
  /** Explicitly subscribed names (count). */
  subscribedNames: number;
  sentVersion: string;
  sentNonce: string;
  sentAt?: string;
  /** Resources in the last response (for delta, changed plus removed). */
  sentResources: number;
  ackedVersion: string;
  ackedAt?: string;
  lastNack?: NackRecord;
  /** Requests whose nonce was not the latest one sent (ignored as ACK/NACK). */
  staleRequests: number;
}

export class TypeTracker {
  readonly type: XdsResourceType;
  private readonly now: () => Date;
  nonce = '';
  version = '';
  awaitingAck = false;
  /** Something changed while a response was outstanding: evaluate again on the reply. */
  dirty = false;
  private sentAt?: Date;
  private sentResources = 0;
  private ackedVersion = '';
  private ackedAt?: Date;
  private lastNack?: NackRecord;
  private nacked = false;
  private staleRequests = 0;

  constructor(type: XdsResourceType, now: () => Date) {
    this.type = type;
    this.now = now;
  }

  /** Classifies a request by its nonce and records an ACK or NACK. */
  reply(nonce: string, errorDetail: StatusMessage | null): ReplyKind {
    if (nonce === '') {
      if (this.nonce === '') return 'initial';
      this.staleRequests++;
      return 'stale'; // sent before our first response reached the client
    }
    if (nonce !== this.nonce) {
      this.staleRequests++;
      return 'stale';
    }
    if (!this.awaitingAck) return 'repeat';
    this.awaitingAck = false;
    if (errorDetail !== null) {
      this.nacked = true;
      this.lastNack = {
        nonce,
        rejectedVersion: this.version,
        code: errorDetail.code,
        message: errorDetail.message.slice(0, MAX_NACK_MESSAGE),
        at: this.now().toISOString(),
      };
      return 'nack';
    }
    this.nacked = false;
    this.ackedVersion = this.version;
    this.ackedAt = this.now();
    return 'ack';
  }

  sent(nonce: string, version: string, resources: number): void {
    this.nonce = nonce;
    this.version = version;
    this.awaitingAck = true;
    this.dirty = false;
    this.sentAt = this.now();
    this.sentResources = resources;
  }

  status(): SyncStatus {
    if (this.nonce === '') return 'NOT_SENT';
    if (this.awaitingAck || this.dirty) return 'STALE';
    return this.nacked ? 'NACKED' : 'SYNCED';
  }

  report(wildcard: boolean, subscribedNames: number): TypeStatus {
    const out: TypeStatus = {
      typeUrl: this.type.typeUrl,
      shortName: this.type.shortName,
      status: this.status(),
      wildcard,
      subscribedNames,
      sentVersion: this.version,
      sentNonce: this.nonce,
      sentResources: this.sentResources,
      ackedVersion: this.ackedVersion,
      staleRequests: this.staleRequests,
    };
    if (this.sentAt) out.sentAt = this.sentAt.toISOString();
    if (this.ackedAt) out.ackedAt = this.ackedAt.toISOString();
    if (this.lastNack) out.lastNack = { ...this.lastNack };
    return out;
  }
}
