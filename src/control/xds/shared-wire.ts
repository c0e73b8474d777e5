/**
 * Wire work done once for many streams.
 *
 * - **Requests.** A state-of-the-world client repeats its whole subscription in every request, every ACK included:
 *   with Envoy subscribed to 1,000 ClusterLoadAssignments, each of 2,000 sidecars sends the same 1,000 names after
 *   every push. `SharedNames` keeps the last few long `resource_names` runs as raw bytes; a request whose run has the
 *   same bytes gets the same (frozen) array instead of decoding every name again, and the stream can tell an
 *   unchanged subscription by identity instead of looking up every name (sotw-stream.ts).
 * - **Responses.** A response's `resources` array marked with `shareEncoding` is encoded once (the repeated field as
 *   its own block) and every response that carries that very array reuses the block: a push that sends the same
 *   changed resources to thousands of streams encodes them once, and only the small per-stream fields (version,
 *   nonce) per stream. Protobuf allows a message's fields in any order, so the block follows them.
 */
import protobuf from 'protobufjs';

const LENGTH_DELIMITED = 2;

/** Runs of fewer names decode quickly enough; caching them would cost more than it saves. */
const MIN_NAMES = 16;
const MAX_ENTRIES = 16;
const MAX_BYTES = 16 * 1024 * 1024;

interface NamesEntry {
  readonly bytes: Buffer;
  readonly names: readonly string[];
}

/** Where a message's entries of one repeated string field are, if they are one contiguous run. */
export interface FieldRun {
  start: number;
  end: number;
  count: number;
}

/**
 * The byte range of every entry of length-delimited field `field` in `bytes`, when they form one contiguous run (as
 * every encoder writes a repeated field); undefined when there are none or they are interleaved with other fields.
 * Throws on input it cannot walk.
 */
export function fieldRun(bytes: Uint8Array, field: number): FieldRun | undefined {
  const reader = protobuf.Reader.create(bytes);
  let start = -1;
  let end = -1;
  let count = 0;
  while (reader.pos < reader.len) {
    const at = reader.pos;
    const tag = reader.uint32();
    if (tag >>> 3 === field) {
      if ((tag & 7) !== LENGTH_DELIMITED) return undefined;
      if (start === -1) start = at;
      else if (at !== end) return undefined;
      reader.skipType(LENGTH_DELIMITED);
      end = reader.pos;
      count++;
    } else {
      reader.skipType(tag & 7);
    }
  }
  return start === -1 ? undefined : { start, end, count };
}

/** Where the first entry of field `field` starts, or undefined if there is none. Throws on input it cannot walk. */
function firstEntryOf(bytes: Uint8Array, field: number): number | undefined {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const at = reader.pos;
    const tag = reader.uint32();
    if (tag >>> 3 === field) return at;
    reader.skipType(tag & 7);
  }
  return undefined;
}

/** A message the scan cannot walk is left to protobufjs, whose decoding is more lenient (and decides what fails). */
function attempt<T>(scan: () => T): T | undefined {
  try {
    return scan();
  } catch {
    return undefined;
  }
}

/** Recently seen long names lists, by their exact encoded bytes; shared, frozen arrays. */
export class SharedNames {
  private entries: NamesEntry[] = [];
  private bytes = 0;
  private readonly shared = new WeakSet<readonly string[]>();
  hits = 0;
  misses = 0;

  /**
   * A recently seen run of encoded names that `message` holds from `start` on (compared byte for byte, not decoded):
   * its shared array and where it ends in `message`. The caller checks that the run does not go on after it.
   */
  lookupAt(message: Buffer, start: number): { names: readonly string[]; end: number } | undefined {
    for (let i = 0; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      const end = start + entry.bytes.length;
      if (end > message.length || entry.bytes.compare(message, start, end) !== 0) continue;
      if (i > 0) {
        this.entries.splice(i, 1);
        this.entries.unshift(entry); // most recently used first
      }
      this.hits++;
      return { names: entry.names, end };
    }
    return undefined;
  }

  /** Files a freshly decoded list (long enough to be worth it) and returns the array to use from now on. */
  remember(run: Uint8Array, names: string[]): readonly string[] {
    this.misses++;
    if (names.length < MIN_NAMES || run.length > MAX_BYTES / 4) return names;
    const frozen = Object.freeze(names);
    this.entries.unshift({ bytes: Buffer.from(run), names: frozen });
    this.bytes += run.length;
    while (this.entries.length > MAX_ENTRIES || this.bytes > MAX_BYTES) this.bytes -= this.entries.pop()!.bytes.length;
    this.shared.add(frozen);
    return frozen;
  }

  /** Whether `names` is one of this cache's shared arrays (safe to keep a reference to: it costs nothing per stream). */
  isShared(names: readonly string[]): boolean {
    return this.shared.has(names);
  }
}

/** One process-wide cache: every stream's requests go through the same service definition. */
export const sharedNames = new SharedNames();

/**
 * A deserializer for a message with a repeated string field (DiscoveryRequest's `resource_names`) that decodes a long
 * run of it once and hands every later message with the same bytes the same frozen array.
 */
export function namesCachingDecoder(
  type: protobuf.Type,
  fieldName: string,
  toObject: (message: protobuf.Message) => Record<string, unknown>,
  cache: SharedNames = sharedNames,
): (bytes: Buffer) => Record<string, unknown> {
  const field = type.fields[fieldName];
  if (field === undefined || !field.repeated || field.type !== 'string') {
    throw new Error(`${type.fullName}.${fieldName} is not a repeated string`);
  }
  const id = field.id;
  const plain = (bytes: Buffer): Record<string, unknown> => toObject(type.decode(bytes));
  return (bytes: Buffer): Record<string, unknown> => {
    const start = attempt(() => firstEntryOf(bytes, id));
    if (start === undefined) return plain(bytes);
    // Most requests repeat a list seen just before: compare its bytes in place, then check nothing follows it.
    const known = cache.lookupAt(bytes, start);
    if (known !== undefined && attempt(() => fieldRun(bytes.subarray(known.end), id) ?? null) === null) {
      const decoded = plain(Buffer.concat([bytes.subarray(0, start), bytes.subarray(known.end)]));
      decoded[fieldName] = known.names;
      return decoded;
    }
    const run = attempt(() => fieldRun(bytes, id));
    const decoded = plain(bytes);
    if (run === undefined || run.count < MIN_NAMES) return decoded;
    decoded[fieldName] = cache.remember(bytes.subarray(run.start, run.end), (decoded[fieldName] as string[]) ?? []);
    return decoded;
  };
}

const encodedBlocks = new WeakMap<readonly object[], Buffer>();
const shareable = new WeakSet<readonly object[]>();

/**
 * Marks an array (of a response's repeated field) as shared by many responses: its encoding is kept with it and
 * reused. Never mutate a marked array.
 */
export function shareEncoding<T extends object>(items: readonly T[]): readonly T[] {
  shareable.add(items);
  return items;
}

/**
 * A serializer that encodes `fieldName` (a repeated message field) of a marked array once and appends the block to
 * the encoding of the message's other fields.
 */
export function sharedBlockEncoder<T>(
  type: protobuf.Type,
  fieldName: string,
  encode: (value: T) => Buffer,
): (value: T) => Buffer {
  if (type.fields[fieldName]?.repeated !== true) throw new Error(`${type.fullName}.${fieldName} is not repeated`);
  return (value: T): Buffer => {
    const items = (value as Record<string, unknown>)[fieldName];
    if (!Array.isArray(items) || items.length === 0 || !shareable.has(items)) return encode(value);
    let block = encodedBlocks.get(items);
    if (block === undefined) {
      block = encode({ [fieldName]: items } as T);
      encodedBlocks.set(items, block);
    }
    return Buffer.concat([encode({ ...value, [fieldName]: [] }), block]);
  };
}
