/**
 * Wire work shared by many streams: a DiscoveryRequest's long resource_names decoded once per distinct list (equal to
 * a plain decode, one frozen array per list), and a response's shared resources encoded once (bytes that decode to
 * the same message).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adsServiceDefinition,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../../src/control/xds/ads-service.js';
import { getXdsProtos } from '../../../src/control/xds/protos.js';
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import {
  fieldRun,
  namesCachingDecoder,
  shareEncoding,
  sharedBlockEncoder,
  SharedNames,
} from '../../../src/control/xds/shared-wire.js';
import { echoCluster, echoEndpoints } from './fixtures.js';

const ads = adsServiceDefinition().StreamAggregatedResources;
const requestType = getXdsProtos().root.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
const responseType = getXdsProtos().root.lookupType('envoy.service.discovery.v3.DiscoveryResponse');
const DECODE = { defaults: true, arrays: true, objects: true, enums: String, longs: String };

function request(names: string[], nonce = 'n-1'): DiscoveryRequest {
  return {
    version_info: 'v1',
    node: null,
    resource_names: names,
    type_url: ENDPOINT_TYPE_URL,
    response_nonce: nonce,
    error_detail: null,
  };
}

const NAMES = Array.from({ length: 40 }, (_, i) => `outbound|80||svc-${i}.bench.svc.cluster.local`);

void describe('fieldRun', () => {
  void it('finds the contiguous run of a repeated field, and refuses an interleaved one', () => {
    const bytes = ads.requestSerialize(request(['a', 'bb', 'ccc']));
    const run = fieldRun(bytes, 3);
    assert.ok(run);
    assert.equal(run.count, 3);
    assert.equal(bytes.subarray(run.start, run.end).toString('latin1'), '\x1a\x01a\x1a\x02bb\x1a\x03ccc');
    assert.equal(fieldRun(ads.requestSerialize(request([])), 3), undefined);
    // resource_names, then type_url, then resource_names again: still valid protobuf, but not one run.
    const interleaved = Buffer.concat([
      ads.requestSerialize(request(['a'], '')),
      ads.requestSerialize({ ...request(['b'], ''), version_info: '', type_url: '' }),
    ]);
    assert.equal(fieldRun(interleaved, 3), undefined);
  });
});

void describe('namesCachingDecoder', () => {
  const make = (): [SharedNames, (bytes: Buffer) => Record<string, unknown>] => {
    const cache = new SharedNames();
    const decode = namesCachingDecoder(requestType, 'resource_names', (m) => requestType.toObject(m, DECODE), cache);
    return [cache, decode];
  };

  void it('decodes exactly as a plain decode, and repeats of a long list get one frozen array', () => {
    const [cache, decode] = make();
    const first = decode(ads.requestSerialize(request([...NAMES], 'n-1')));
    const second = decode(ads.requestSerialize(request([...NAMES], 'n-2')));
    for (const [decoded, nonce] of [
      [first, 'n-1'],
      [second, 'n-2'],
    ] as const) {
      assert.deepEqual({ ...decoded }, { ...ads.requestDeserialize(ads.requestSerialize(request(NAMES, nonce))) });
    }
    assert.equal(first.resource_names, second.resource_names);
    assert.ok(Object.isFrozen(first.resource_names));
    assert.ok(cache.isShared(first.resource_names as string[]));
    assert.deepEqual([cache.misses, cache.hits], [1, 1]);
  });

  void it('tells lists apart by their bytes, and leaves short lists alone', () => {
    const [cache, decode] = make();
    const a = decode(ads.requestSerialize(request([...NAMES])));
    const other = [...NAMES.slice(0, -1), 'outbound|80||svc-X.bench.svc.cluster.local'];
    const b = decode(ads.requestSerialize(request(other)));
    assert.notEqual(a.resource_names, b.resource_names);
    assert.deepEqual(b.resource_names, other);
    const short = decode(ads.requestSerialize(request(['x', 'y'])));
    assert.deepEqual(short.resource_names, ['x', 'y']);
    assert.equal(cache.isShared(short.resource_names), false);
    assert.equal(decode(ads.requestSerialize(request(['x', 'y']))).resource_names === short.resource_names, false);
  });

  void it('does not take a known list for a longer one that starts with it', () => {
    const [, decode] = make();
    const known = decode(ads.requestSerialize(request([...NAMES])));
    const longer = decode(ads.requestSerialize(request([...NAMES, 'one-more'])));
    assert.deepEqual(longer.resource_names, [...NAMES, 'one-more']);
    assert.notEqual(longer.resource_names, known.resource_names);
  });

  void it('keeps a bounded number of lists, most recently used first', () => {
    const [cache, decode] = make();
    const lists = Array.from({ length: 20 }, (_, k) => NAMES.map((n) => `${n}-${k}`));
    const firstArrays = lists.map((l) => decode(ads.requestSerialize(request(l))).resource_names);
    // The 4 oldest were evicted (16 kept): decoding them again gives new arrays; the newest are still shared.
    assert.notEqual(decode(ads.requestSerialize(request(lists[0]!))).resource_names, firstArrays[0]);
    assert.equal(decode(ads.requestSerialize(request(lists[19]!))).resource_names, firstArrays[19]);
    assert.equal(cache.hits, 1);
  });

  void it('leaves bytes it cannot walk to protobufjs', () => {
    const [, decode] = make();
    // A length running past the end: protobufjs decodes it leniently (the server then wants a node id).
    const lenient = Buffer.from([0x0a, 0x05, 0x41, 0x0f, 0x0f]);
    assert.deepEqual({ ...decode(lenient) }, { ...ads.requestDeserialize(lenient) });
  });
});

void describe('sharedBlockEncoder', () => {
  const protos = getXdsProtos();
  const resources = [
    protos.toAny(CLUSTER_TYPE_URL, echoCluster('c1')),
    protos.toAny(ENDPOINT_TYPE_URL, echoEndpoints([1, 2], 'c1')),
  ];
  const response = (list: DiscoveryResponse['resources'], nonce: string): DiscoveryResponse => ({
    version_info: 'v7',
    resources: list,
    type_url: CLUSTER_TYPE_URL,
    nonce,
    control_plane: { identifier: 'shoal' },
  });

  void it('encodes a shared array once; every response decodes to the same message as a plain encoding', () => {
    let encodes = 0;
    const plain = ads.responseSerialize;
    const encoder = sharedBlockEncoder<DiscoveryResponse>(responseType, 'resources', (value) => {
      encodes++;
      return plain(value);
    });
    const shared = shareEncoding(resources) as DiscoveryResponse['resources'];
    const a = encoder(response(shared, 'n-1'));
    const b = encoder(response(shared, 'n-2'));
    assert.equal(encodes, 3, 'the block once, then the small rest per response');
    assert.deepEqual(ads.responseDeserialize(a), ads.responseDeserialize(plain(response(resources, 'n-1'))));
    assert.deepEqual(ads.responseDeserialize(b), ads.responseDeserialize(plain(response(resources, 'n-2'))));
    // An array not marked as shared is encoded as usual.
    encodes = 0;
    encoder(response([...resources], 'n-3'));
    assert.equal(encodes, 1);
  });
});
