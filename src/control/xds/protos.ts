/**
 * Envoy's v3 API, loaded at run time from the .proto files that @grpc/grpc-js-xds ships (deps/envoy-api, xds,
 * googleapis, protoc-gen-validate), never copied into this repository.
 *
 * `getXdsProtos()` parses them once, on first use, into one protobufjs Root (field names kept in snake_case, as in the
 * .proto files and grpc-js-xds). Through it: encode a plain object of any loaded message type, wrap it in a
 * google.protobuf.Any (nested Anys such as an HttpConnectionManager in `api_listener` or a Router in `http_filters`
 * are written `{ '@type': ..., ...fields }`), and decode either back. Inputs are checked first (proto-object.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { performance } from 'node:perf_hooks';
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

export class XdsProtos {
  readonly root: protobuf.Root;
  /** Wall-clock time the parse took, in milliseconds. */
  readonly loadTimeMs: number;
  private readonly types = new Map<string, protobuf.Type>();

  private constructor(root: protobuf.Root, loadTimeMs: number) {
    this.root = root;
    this.loadTimeMs = loadTimeMs;
  }

  /** Parses the entry files now (prefer `getXdsProtos()`, which does it once). */
  static load(): XdsProtos {
    const started = performance.now();
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
