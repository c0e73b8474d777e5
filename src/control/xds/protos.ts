/**
 * Envoy's v3 API, from the .proto files that @grpc/grpc-js-xds ships (deps/envoy-api, xds, googleapis,
 * protoc-gen-validate), never copied into this repository.
 *
 * `npm run build` parses them once (`parseEnvoyProtos`) and writes what encoding and decoding need as a protobufjs
 * JSON descriptor next to this module (`envoyDescriptor`, scripts/build-protos.mjs). `getXdsProtos()` loads that on
 * first use into one protobufjs Root (field names kept in snake_case, as in the .proto files and grpc-js-xds): a
 * third of the time parsing takes, and a sidecar about 4 MB smaller. A build by tsc alone has no descriptor: then
 * the .proto files are parsed at run time, as before. Through the Root: encode a plain object of any loaded message
 * type, wrap it in a google.protobuf.Any (nested Anys such as an HttpConnectionManager in `api_listener` or a Router
 * in `http_filters` are written `{ '@type': ..., ...fields }`), and decode either back. Inputs are checked first
 * (proto-object.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { normalizeProtoObject, type ProtoObject } from './proto-object.js';
import { messageNameOf, typeUrlOf } from './resource-types.js';

/** A google.protobuf.Any in encoded form (`value` is the serialized message). */
export interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

/** Entry files; their imports are followed. Anything a translation layer puts in a typed_config must be here. */
const ENTRY_FILES: readonly string[] = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
  'envoy/extensions/load_balancing_policies/ring_hash/v3/ring_hash.proto',
  'envoy/extensions/load_balancing_policies/pick_first/v3/pick_first.proto',
  'envoy/extensions/load_balancing_policies/wrr_locality/v3/wrr_locality.proto',
  'xds/type/v3/typed_struct.proto',
  'udpa/type/v1/typed_struct.proto',
];

const DECODE_OPTIONS: protobuf.IConversionOptions = { enums: String, longs: String, json: true };

/** The include directories: grpc-js-xds's deps, then protobufjs (for google/protobuf/descriptor.proto). */
function includeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const xdsDir = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const protobufDir = dirname(require.resolve('protobufjs/package.json'));
  const deps = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(xdsDir, 'deps', d));
  return [...deps, protobufDir];
}

/** Where the build writes the descriptor: beside this module (dist/src/control/xds/). */
export const DESCRIPTOR_FILE = fileURLToPath(new URL('envoy-api.json', import.meta.url));

/** Parses the entry files and every file they import (the build does this once, for the descriptor). */
export function parseEnvoyProtos(): protobuf.Root {
  const dirs = includeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    if (isAbsolute(target)) return target;
    for (const dir of dirs) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target; // protobufjs's bundled google/protobuf/*.proto
  };
  root.loadSync([...ENTRY_FILES], { keepCase: true });
  root.resolveAll();
  return root;
}

/** The options protobufjs itself reads (wire format, defaults, presence); the others only annotate. */
const WIRE_OPTIONS = new Set(['packed', 'default', 'proto3_optional', 'features', 'allow_alias']);

/**
 * A parsed Root as a JSON descriptor with everything that only describes options left out: the files that define
 * custom options (validate, udpa/xds/envoy annotations: they extend google.protobuf.*Options), descriptor.proto,
 * and every option protobufjs does not read. Every other message, enum and service stays, with all its fields,
 * so whatever parsed before encodes and decodes alike (including a type only ever reached through an Any).
 */
export function envoyDescriptor(root: protobuf.Root): protobuf.INamespace {
  const all: protobuf.ReflectionObject[] = [];
  const collect = (ns: protobuf.NamespaceBase): void => {
    for (const o of ns.nestedArray) {
      all.push(o);
      if (o instanceof protobuf.Namespace) collect(o);
    }
  };
  collect(root);
  const optionFiles = new Set(
    all.filter((o) => o instanceof protobuf.Field && o.extend !== undefined).map((o) => o.filename),
  );
  const isDefinition = (o: protobuf.ReflectionObject): boolean =>
    o instanceof protobuf.Type || o instanceof protobuf.Enum || o instanceof protobuf.Service;
  // Every definition outside the option files is kept, with what its fields and methods refer to (the few
  // google.protobuf types that are used) and, for a nested one, its parent message.
  const keep = new Set<string>();
  const queue = all.filter(
    (o) => isDefinition(o) && !optionFiles.has(o.filename) && !o.fullName.startsWith('.google.protobuf.'),
  );
  for (let o = queue.pop(); o !== undefined; o = queue.pop()) {
    if (keep.has(o.fullName)) continue;
    keep.add(o.fullName);
    if (o.parent && isDefinition(o.parent)) queue.push(o.parent);
    if (o instanceof protobuf.Type) for (const f of o.fieldsArray) if (f.resolvedType) queue.push(f.resolvedType);
    if (o instanceof protobuf.Service) {
      for (const m of o.methodsArray) queue.push(m.resolvedRequestType!, m.resolvedResponseType!);
    }
  }
  return prune(root.toJSON(), '', keep) ?? {};
}

type JsonNode = protobuf.INamespace & {
  fields?: Record<string, { options?: Record<string, unknown> }>;
  oneofs?: Record<string, { options?: Record<string, unknown> }>;
  methods?: Record<string, { options?: Record<string, unknown> }>;
  values?: unknown;
  valuesOptions?: unknown;
  extend?: string;
};

function wireOptions(options: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const kept = Object.entries(options ?? {}).filter(([k]) => WIRE_OPTIONS.has(k));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/** The JSON node of `fullName` without what `envoyDescriptor` leaves out; undefined if nothing is left. */
function prune(node: JsonNode, fullName: string, keep: ReadonlySet<string>): JsonNode | undefined {
  if (node.extend !== undefined) return undefined; // a custom option's definition
  const definition = node.fields !== undefined || node.values !== undefined || node.methods !== undefined;
  if (definition && !keep.has(fullName)) return undefined;
  const out: JsonNode = { ...node, options: wireOptions(node.options) };
  delete out.valuesOptions;
  for (const members of [out.fields, out.oneofs, out.methods]) {
    for (const member of Object.values(members ?? {})) member.options = wireOptions(member.options);
  }
  if (node.nested !== undefined) {
    const nested: Record<string, JsonNode> = {};
    for (const [name, child] of Object.entries(node.nested as Record<string, JsonNode>)) {
      const kept = prune(child, `${fullName}.${name}`, keep);
      if (kept !== undefined) nested[name] = kept;
    }
    out.nested = Object.keys(nested).length > 0 ? nested : undefined;
  }
  return definition || out.nested !== undefined ? out : undefined;
}

export class XdsProtos {
  readonly root: protobuf.Root;
  /** Wall-clock time the parse took, in milliseconds. */
  readonly loadTimeMs: number;
  private readonly types = new Map<string, protobuf.Type>();

  private constructor(root: protobuf.Root, loadTimeMs: number) {
    this.root = root;
    this.loadTimeMs = loadTimeMs;
  }

  /** Loads the descriptor, or parses the .proto files if there is none (prefer `getXdsProtos()`: once). */
  static load(): XdsProtos {
    const started = performance.now();
    const root = existsSync(DESCRIPTOR_FILE)
      ? protobuf.Root.fromJSON(JSON.parse(readFileSync(DESCRIPTOR_FILE, 'utf8')) as protobuf.INamespace)
      : parseEnvoyProtos();
    root.resolveAll();
    return new XdsProtos(root, performance.now() - started);
  }

  /** The message type for a fully qualified name or a type URL (throws if not loaded). */
  type(nameOrTypeUrl: string): protobuf.Type {
    const name = messageNameOf(nameOrTypeUrl);
    let type = this.types.get(name);
    if (type === undefined) {
      type = this.root.lookupType(name);
      this.types.set(name, type);
    }
    return type;
  }

  /** Checks and canonicalizes `object` as a `messageName` (see proto-object.ts); throws ProtoShapeError. */
  normalize(messageName: string, object: ProtoObject): ProtoObject {
    return normalizeProtoObject(this.type(messageName), object);
  }

  /** Serializes a plain object of the given message type. */
  encode(messageName: string, object: ProtoObject): Uint8Array {
    const type = this.type(messageName);
    const message = type.fromObject(normalizeProtoObject(type, object));
    return type.encode(message).finish();
  }

  /** Parses bytes of the given message type into a plain object (enums and int64s as strings, Anys expanded). */
  decode(messageName: string, bytes: Uint8Array): ProtoObject {
    const type = this.type(messageName);
    return type.toObject(type.decode(bytes), DECODE_OPTIONS);
  }

  /** Wraps a plain object of the given message type in an Any. */
  toAny(messageName: string, object: ProtoObject): AnyMessage {
    const name = messageNameOf(messageName);
    return { type_url: typeUrlOf(name), value: this.encode(name, object) };
  }

  /** Unwraps an Any into `{ '@type': typeUrl, ...fields }` (throws if its type is not loaded). */
  fromAny(any: AnyMessage): ProtoObject {
    return { '@type': any.type_url, ...this.decode(any.type_url, any.value) };
  }
}

let loaded: XdsProtos | undefined;

/** The process-wide Envoy API, parsed on first call. */
export function getXdsProtos(): XdsProtos {
  loaded ??= XdsProtos.load();
  return loaded;
}
