/**
 * Envoy protos: the build's descriptor, load time, type URLs, Any round trips with nested Anys and well-known types,
 * shape errors.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { describe, it } from 'node:test';
import { adsServiceDefinition, type DiscoveryRequest } from '../../../src/control/xds/ads-service.js';
import { ProtoShapeError } from '../../../src/control/xds/proto-object.js';
import { DESCRIPTOR_FILE, envoyDescriptor, getXdsProtos, parseEnvoyProtos } from '../../../src/control/xds/protos.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  SECRET_TYPE_URL,
  XDS_RESOURCE_TYPES,
} from '../../../src/control/xds/resource-types.js';
import { fromStruct, toStruct } from '../../../src/control/xds/well-known.js';
import { echoCluster, echoEndpoints, echoListener, HCM_TYPE_URL, ROUTER_TYPE_URL } from './fixtures.js';

const protos = getXdsProtos();

void describe('xDS protos', () => {
  void it('loads once, quickly, and resolves every served type URL', () => {
    assert.equal(getXdsProtos(), protos);
    assert.ok(protos.loadTimeMs > 0 && protos.loadTimeMs < 2_000, `load took ${protos.loadTimeMs} ms`);
    for (const type of XDS_RESOURCE_TYPES) {
      assert.equal(protos.type(type.typeUrl).fullName, `.${type.messageName}`);
    }
    assert.equal(LISTENER_TYPE_URL, 'type.googleapis.com/envoy.config.listener.v3.Listener');
    assert.equal(SECRET_TYPE_URL, 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret');
  });

  void it('loads the descriptor the build wrote, which is what parsing the .proto files gives now', () => {
    assert.ok(existsSync(DESCRIPTOR_FILE), `${DESCRIPTOR_FILE} (npm run build writes it)`);
    const parsed = parseEnvoyProtos();
    assert.equal(readFileSync(DESCRIPTOR_FILE, 'utf8'), JSON.stringify(envoyDescriptor(parsed)));
    // Every message, enum and service outside the option definitions is there, and each field is read and written
    // the same way.
    let compared = 0;
    const visit = (ns: protobuf.NamespaceBase): void => {
      for (const o of ns.nestedArray) {
        if (o instanceof protobuf.Namespace) visit(o);
        if (/^\.(validate|udpa\.annotations|xds\.annotations|envoy\.annotations|google\.protobuf)\./.test(o.fullName))
          continue;
        if (o instanceof protobuf.Enum)
          assert.deepEqual({ ...protos.root.lookupEnum(o.fullName).values }, { ...o.values });
        if (o instanceof protobuf.Service) protos.root.lookupService(o.fullName);
        if (!(o instanceof protobuf.Type)) continue;
        const loaded = protos.root.lookupType(o.fullName);
        assert.deepEqual(Object.keys(loaded.fields), Object.keys(o.fields), o.fullName);
        for (const f of o.fieldsArray) {
          const g = loaded.fields[f.name]!;
          for (const p of ['id', 'type', 'repeated', 'map', 'packed', 'required', 'delimited', 'optional'] as const) {
            assert.equal(g[p], f[p], `${o.fullName}.${f.name}: ${p}`);
          }
          assert.equal(!!g.hasPresence, !!f.hasPresence, `${o.fullName}.${f.name}: hasPresence`);
          assert.equal(g.partOf?.name, f.partOf?.name, `${o.fullName}.${f.name}: oneof`);
          assert.equal(g.resolvedType?.fullName, f.resolvedType?.fullName, `${o.fullName}.${f.name}: type`);
          compared++;
        }
      }
    };
    visit(parsed);
    assert.ok(compared > 1500, `${compared} fields compared`);
    // What only described options is gone.
    assert.equal(protos.root.lookup('validate.FieldRules'), null);
    assert.equal(protos.root.lookup('google.protobuf.FieldOptions'), null);
  });

  void it('round-trips a Listener whose api_listener is an HttpConnectionManager Any with a Router filter', () => {
    const any = protos.toAny(LISTENER_TYPE_URL, echoListener());
    assert.equal(any.type_url, LISTENER_TYPE_URL);
    const decoded = protos.fromAny(any);
    assert.deepEqual(decoded, {
      '@type': LISTENER_TYPE_URL,
      name: 'echo.default.svc.cluster.local:8080',
      api_listener: {
        api_listener: {
          '@type': HCM_TYPE_URL,
          stat_prefix: 'outbound_echo',
          rds: {
            route_config_name: 'echo.default.svc.cluster.local:8080',
            config_source: { ads: {}, resource_api_version: 'V3' },
          },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE_URL } }],
        },
      },
    });
    // The nested Any is a real Any: decodable on its own.
    const listenerType = protos.type(LISTENER_TYPE_URL);
    const raw = listenerType.toObject(listenerType.decode(any.value)) as {
      api_listener: { api_listener: { type_url: string; value: Uint8Array } };
    };
    const nested = raw.api_listener.api_listener;
    assert.equal(nested.type_url, HCM_TYPE_URL);
    assert.equal(protos.fromAny(nested).stat_prefix, 'outbound_echo');
  });

  void it('round-trips a Cluster with EDS over ADS, a Duration and Struct metadata', () => {
    const cluster = {
      ...echoCluster(),
      metadata: { filter_metadata: { istio: toStruct({ services: [{ host: 'echo', port: 8080 }], ok: true }) } },
    };
    const decoded = protos.fromAny(protos.toAny(CLUSTER_TYPE_URL, cluster));
    assert.equal(decoded.type, 'EDS');
    assert.equal(decoded.lb_policy, undefined); // ROUND_ROBIN is the zero value: not on the wire
    assert.deepEqual(decoded.connect_timeout, { seconds: '1', nanos: 500_000_000 });
    assert.deepEqual(decoded.eds_cluster_config, {
      eds_config: { ads: {}, resource_api_version: 'V3' },
      service_name: 'outbound|8080||echo.default.svc.cluster.local',
    });
    const metadata = decoded.metadata as { filter_metadata: { istio: Parameters<typeof fromStruct>[0] } };
    assert.deepEqual(fromStruct(metadata.filter_metadata.istio), {
      services: [{ host: 'echo', port: 8080 }],
      ok: true,
    });
  });

  void it('round-trips a ClusterLoadAssignment with locality, weights (UInt32Value) and health status', () => {
    const decoded = protos.decode(ENDPOINT_TYPE_URL, protos.encode(ENDPOINT_TYPE_URL, echoEndpoints([7001, 7002])));
    assert.deepEqual(decoded, {
      cluster_name: 'outbound|8080||echo.default.svc.cluster.local',
      endpoints: [
        {
          locality: { region: 'local', zone: 'zone-a' },
          load_balancing_weight: { value: 1 },
          lb_endpoints: [7001, 7002].map((port) => ({
            endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
            health_status: 'HEALTHY',
            load_balancing_weight: { value: 1 },
          })),
        },
      ],
    });
  });

  void it('handles BoolValue and UInt32Value wrappers', () => {
    const decoded = protos.decode(
      LISTENER_TYPE_URL,
      protos.encode(LISTENER_TYPE_URL, {
        name: 'l',
        use_original_dst: { value: true },
        per_connection_buffer_limit_bytes: { value: 32768 },
      }),
    );
    assert.deepEqual(decoded, {
      name: 'l',
      use_original_dst: { value: true },
      per_connection_buffer_limit_bytes: { value: 32768 },
    });
  });

  void it('encodes maps deterministically, whatever the insertion order', () => {
    const a = protos.encode(CLUSTER_TYPE_URL, {
      name: 'c',
      metadata: { filter_metadata: { x: toStruct({ a: 1, b: 2 }), y: {} } },
    });
    const b = protos.encode(CLUSTER_TYPE_URL, {
      name: 'c',
      metadata: { filter_metadata: { y: {}, x: toStruct({ b: 2, a: 1 }) } },
    });
    assert.deepEqual(Buffer.from(a), Buffer.from(b));
  });

  void it('rejects malformed objects with the field path instead of dropping fields', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ nam: 'x' }, /^Listener\.nam: unknown field of envoy\.config\.listener\.v3\.Listener$/],
      [{ traffic_direction: 'SIDEWAYS' }, /Listener\.traffic_direction: unknown TrafficDirection value "SIDEWAYS"/],
      [{ api_listener: { api_listener: { '@type': 'type.googleapis.com/x.Nope' } } }, /x\.Nope is not loaded/],
      [
        {
          api_listener: {
            api_listener: { ...(echoListener().api_listener as { api_listener: object }).api_listener, bogus: 1 },
          },
        },
        /Listener\.api_listener\.api_listener<HttpConnectionManager>\.bogus: unknown field/,
      ],
      [
        { address: { socket_address: { port_value: 1, named_port: 'x' } } },
        /port_value and named_port are members of oneof/,
      ],
      [{ filter_chains: { name: 'x' } }, /Listener\.filter_chains: expected an array/],
      [{ address: 'localhost' }, /Listener\.address: expected an object/],
    ];
    for (const [object, message] of cases) {
      assert.throws(
        () => protos.toAny(LISTENER_TYPE_URL, object),
        (error: unknown) => {
          assert.ok(error instanceof ProtoShapeError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });

  void it('builds the ADS service definition from the same root, with working codecs', () => {
    const ads = adsServiceDefinition();
    assert.equal(
      ads.StreamAggregatedResources.path,
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
    );
    assert.equal(ads.DeltaAggregatedResources.requestStream && ads.DeltaAggregatedResources.responseStream, true);
    const request: DiscoveryRequest = {
      version_info: '',
      node: null,
      resource_names: ['a'],
      type_url: CLUSTER_TYPE_URL,
      response_nonce: '',
      error_detail: { code: 3, message: 'bad' },
    };
    const bytes = ads.StreamAggregatedResources.requestSerialize(request);
    assert.deepEqual(ads.StreamAggregatedResources.requestDeserialize(bytes), {
      ...request,
      error_detail: { code: 3, message: 'bad', details: [] },
      resource_locators: [],
    });
  });
});
