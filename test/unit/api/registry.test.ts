import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiVersionOf } from '../../../src/api/kind.js';
import { KINDS, kindByCliName, kindByName, kindByRestPath, kindForApiVersion } from '../../../src/api/registry.js';

void test('KINDS lists the twelve stable kinds with their groups, versions and short names', () => {
  const table = KINDS.map(
    (k) => `${k.group || 'core'} ${k.kind} ${k.plural} ${k.shortNames.join(',')} ${k.versions.join(',')}`,
  );
  assert.deepEqual(table, [
    'core Service services svc v1',
    'apps Deployment deployments deploy v1',
    'core Pod pods po v1',
    'networking.istio.io VirtualService virtualservices vs v1,v1beta1,v1alpha3',
    'networking.istio.io DestinationRule destinationrules dr v1,v1beta1,v1alpha3',
    'networking.istio.io ServiceEntry serviceentries se v1,v1beta1,v1alpha3',
    'networking.istio.io Gateway gateways gw v1,v1beta1,v1alpha3',
    'networking.istio.io WorkloadEntry workloadentries we v1,v1beta1,v1alpha3',
    'networking.istio.io WorkloadGroup workloadgroups wg v1,v1beta1,v1alpha3',
    'security.istio.io PeerAuthentication peerauthentications pa v1,v1beta1',
    'security.istio.io AuthorizationPolicy authorizationpolicies ap v1,v1beta1',
    'security.istio.io RequestAuthentication requestauthentications ra v1,v1beta1',
  ]);
  for (const k of KINDS) {
    assert.equal(k.namespaced, true, k.kind);
    assert.equal(k.singular, k.kind.toLowerCase(), k.kind);
  }
});

void test('only Deployment, Pod, ServiceEntry (allocated addresses) and WorkloadEntry have a status schema', () => {
  assert.deepEqual(
    KINDS.filter((k) => k.status !== undefined).map((k) => k.kind),
    ['Deployment', 'Pod', 'ServiceEntry', 'WorkloadEntry'],
  );
});

void test('kindByName is exact', () => {
  assert.equal(kindByName('VirtualService')?.plural, 'virtualservices');
  assert.equal(kindByName('virtualservice'), undefined);
  assert.equal(kindByName('List'), undefined);
});

void test('kindForApiVersion accepts every served version alias and nothing else', () => {
  for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
    assert.equal(kindForApiVersion(`networking.istio.io/${v}`, 'VirtualService')?.kind, 'VirtualService', v);
  }
  assert.equal(kindForApiVersion('security.istio.io/v1beta1', 'AuthorizationPolicy')?.kind, 'AuthorizationPolicy');
  assert.equal(kindForApiVersion('security.istio.io/v1alpha3', 'AuthorizationPolicy'), undefined);
  assert.equal(kindForApiVersion('networking.istio.io/v2', 'VirtualService'), undefined);
  assert.equal(kindForApiVersion('v1', 'Service')?.kind, 'Service');
  assert.equal(kindForApiVersion('apps/v1', 'Service'), undefined);
  assert.equal(kindForApiVersion('apps/v1', 'Deployment')?.kind, 'Deployment');
  assert.equal(kindForApiVersion('v1', 'Deployment'), undefined);
  assert.equal(kindForApiVersion('security.istio.io/v1', 'VirtualService'), undefined);
});

void test('kindByRestPath finds kinds by group, served version and plural', () => {
  assert.equal(kindByRestPath('', 'v1', 'services')?.kind, 'Service');
  assert.equal(kindByRestPath('apps', 'v1', 'deployments')?.kind, 'Deployment');
  assert.equal(kindByRestPath('networking.istio.io', 'v1alpha3', 'destinationrules')?.kind, 'DestinationRule');
  assert.equal(kindByRestPath('networking.istio.io', 'v2', 'destinationrules'), undefined);
  assert.equal(kindByRestPath('', 'v1', 'deployments'), undefined);
  assert.equal(kindByRestPath('security.istio.io', 'v1', 'VirtualServices'), undefined);
});

void test('kindByCliName accepts short, singular, plural, kind and qualified names, case-insensitively', () => {
  for (const name of [
    'vs',
    'VS',
    'virtualservice',
    'virtualservices',
    'VirtualService',
    'virtualservice.networking.istio.io',
    'virtualservices.networking.istio.io',
    'VirtualServices.Networking.Istio.IO',
    'virtualservices.v1beta1.networking.istio.io',
  ]) {
    assert.equal(kindByCliName(name)?.kind, 'VirtualService', name);
  }
  assert.equal(kindByCliName('svc')?.kind, 'Service');
  assert.equal(kindByCliName('deploy')?.kind, 'Deployment');
  assert.equal(kindByCliName('ap')?.kind, 'AuthorizationPolicy');
  assert.equal(kindByCliName('authorizationpolicies.security.istio.io')?.kind, 'AuthorizationPolicy');
  assert.equal(kindByCliName('virtualservices.security.istio.io'), undefined);
  assert.equal(kindByCliName('po')?.kind, 'Pod');
  assert.equal(kindByCliName('pods')?.kind, 'Pod');
  assert.equal(kindByCliName('replicasets'), undefined);
});

void test('apiVersionOf gives the preferred version', () => {
  assert.equal(apiVersionOf(kindByName('VirtualService')!), 'networking.istio.io/v1');
  assert.equal(apiVersionOf(kindByName('Service')!), 'v1');
  assert.equal(apiVersionOf(kindByName('Deployment')!), 'apps/v1');
});

void test('table columns render spec and status fields', () => {
  const cell = (kind: string, header: string, obj: { spec?: unknown; status?: unknown }): string | undefined =>
    kindByName(kind)
      ?.columns?.find((c) => c.header === header)
      ?.value(obj);
  assert.equal(cell('VirtualService', 'HOSTS', { spec: { hosts: ['a', 'b'] } }), 'a,b');
  assert.equal(cell('VirtualService', 'GATEWAYS', { spec: {} }), '');
  assert.equal(
    cell('Service', 'PORT(S)', { spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] } }),
    '80/TCP,53/UDP',
  );
  assert.equal(cell('Service', 'TYPE', { spec: {} }), 'ClusterIP');
  assert.equal(cell('Service', 'SELECTOR', { spec: { selector: { app: 'a', tier: 'b' } } }), 'app=a,tier=b');
  assert.equal(cell('Deployment', 'READY', { spec: { replicas: 3 }, status: { readyReplicas: 2 } }), '2/3');
  assert.equal(
    cell('WorkloadEntry', 'HEALTHY', { status: { conditions: [{ type: 'Healthy', status: 'False' }] } }),
    'False',
  );
  assert.equal(cell('AuthorizationPolicy', 'ACTION', { spec: {} }), 'ALLOW');
  assert.equal(cell('PeerAuthentication', 'MODE', { spec: { mtls: { mode: 'STRICT' } } }), 'STRICT');
  assert.equal(cell('DestinationRule', 'HOST', { spec: 'not an object' }), '');
});
