/** ServiceEntry: external and internal services, endpoints, resolution rules. */
import { test } from 'node:test';
import { assertValid, checkCases, doc } from './helpers.js';

const SE = 'networking.istio.io/v1';
const http = { number: 80, name: 'http', protocol: 'HTTP' };

void test('documentation samples are valid', () => {
  const samples: unknown[] = [
    // egress to an external HTTP and HTTPS host (egress control task)
    {
      hosts: ['edition.cnn.com'],
      ports: [
        { number: 80, name: 'http-port', protocol: 'HTTP' },
        { number: 443, name: 'https', protocol: 'HTTPS' },
      ],
      resolution: 'DNS',
    },
    // external TLS APIs
    {
      hosts: ['api.dropboxapi.com', 'www.googleapis.com'],
      location: 'MESH_EXTERNAL',
      ports: [{ number: 443, name: 'https', protocol: 'TLS' }],
      resolution: 'DNS',
    },
    // wildcard external hosts without resolution
    {
      hosts: ['*.wikipedia.org'],
      ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      location: 'MESH_EXTERNAL',
      resolution: 'NONE',
    },
    // a database on static IPs
    {
      hosts: ['mymongodb.somedomain'],
      addresses: ['192.192.192.192/24'],
      ports: [{ number: 27018, name: 'mongodb', protocol: 'TCP' }],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      endpoints: [{ address: '2.2.2.2' }, { address: '3.3.3.3' }],
    },
    // VMs selected by labels
    {
      hosts: ['details.bookinfo.com'],
      location: 'MESH_INTERNAL',
      ports: [{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 }],
      resolution: 'STATIC',
      workloadSelector: { labels: { app: 'details-legacy' } },
    },
    // DNS endpoints with per-endpoint ports, locality and weights
    {
      hosts: ['foo.bar.com'],
      location: 'MESH_EXTERNAL',
      ports: [http],
      resolution: 'DNS',
      endpoints: [
        { address: 'us.foo.bar.com', ports: { http: 8080 }, locality: 'us-west', weight: 90 },
        { address: 'uk.foo.bar.com', ports: { http: 9080 }, locality: 'europe', weight: 10 },
      ],
    },
    // a unix domain socket
    {
      hosts: ['unix.example.com'],
      location: 'MESH_EXTERNAL',
      ports: [http],
      resolution: 'STATIC',
      endpoints: [{ address: 'unix:///var/run/example/socket' }],
    },
    {
      hosts: ['api.example.com'],
      ports: [http],
      resolution: 'DNS_ROUND_ROBIN',
      exportTo: ['*'],
      subjectAltNames: ['spiffe://cluster.local/ns/default/sa/api'],
    },
  ];
  for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
    for (const spec of samples) assertValid(doc(`networking.istio.io/${v}`, 'ServiceEntry', spec));
  }
});

void test('invalid ServiceEntries', () => {
  checkCases(SE, 'ServiceEntry', [
    { name: 'no hosts', spec: { ports: [http] }, errors: ['spec.hosts: required'] },
    {
      name: 'a protocol Shoal does not proxy',
      spec: { hosts: ['db.example.com'], ports: [{ number: 27017, name: 'mongo', protocol: 'MONGO' }] },
      errors: ['spec.ports[0].protocol: not supported: "MONGO" (supported: HTTP, HTTPS, GRPC, HTTP2, TCP, TLS)'],
    },
    {
      name: 'an unknown protocol',
      spec: { hosts: ['a.com'], ports: [{ number: 80, name: 'http', protocol: 'http' }] },
      errors: ['spec.ports[0].protocol: must be one of: HTTP, HTTPS, GRPC, HTTP2, TCP, TLS (got "http")'],
    },
    {
      name: 'duplicate ports',
      spec: { hosts: ['a.com'], ports: [http, { number: 80, name: 'http', protocol: 'TCP' }] },
      errors: ['spec.ports[1].name: duplicate port name "http"', 'spec.ports[1].number: duplicate port number 80'],
    },
    {
      name: 'a port without a name',
      spec: { hosts: ['a.com'], ports: [{ number: 80 }] },
      errors: ['spec.ports[0].name: required'],
    },
    {
      name: 'endpoints and workloadSelector',
      spec: {
        hosts: ['a.com'],
        ports: [http],
        resolution: 'STATIC',
        endpoints: [{ address: '1.1.1.1' }],
        workloadSelector: { labels: { app: 'a' } },
      },
      errors: ['spec: must set only one of: endpoints, workloadSelector (got endpoints, workloadSelector)'],
    },
    {
      name: 'endpoints with resolution NONE',
      spec: { hosts: ['a.com'], ports: [http], endpoints: [{ address: '1.1.1.1' }] },
      errors: ['spec.endpoints: must be empty when resolution is NONE'],
    },
    {
      name: 'a host name with STATIC resolution',
      spec: { hosts: ['a.com'], ports: [http], resolution: 'STATIC', endpoints: [{ address: 'b.com' }] },
      errors: ['spec.endpoints[0].address: must be an IP address or a unix:// path when resolution is STATIC'],
    },
    {
      name: 'an endpoint port that is not a service port',
      spec: {
        hosts: ['a.com'],
        ports: [http],
        resolution: 'DNS',
        endpoints: [{ address: 'b.com', ports: { https: 8443 } }],
      },
      errors: ['spec.endpoints[0].ports.https: port "https" is not defined in spec.ports'],
    },
    {
      name: 'a wildcard host to resolve by DNS',
      spec: { hosts: ['*.a.com'], ports: [http], resolution: 'DNS' },
      errors: ['spec.hosts[0]: a wildcard host needs endpoints when resolution is DNS'],
    },
    {
      name: 'two endpoints for DNS_ROUND_ROBIN',
      spec: {
        hosts: ['a.com'],
        ports: [http],
        resolution: 'DNS_ROUND_ROBIN',
        endpoints: [{ address: 'b.com' }, { address: 'c.com' }],
      },
      errors: ['spec.endpoints: must have at most one endpoint when resolution is DNS_ROUND_ROBIN'],
    },
    {
      name: 'addresses, location, resolution',
      spec: { hosts: ['a.com'], addresses: ['10.0.0.0/33', 'x'], location: 'EXTERNAL', resolution: 'dns' },
      errors: [
        'spec.addresses[0]: must be an IP address or a CIDR block such as "10.0.0.0/8"',
        'spec.addresses[1]: must be an IP address or a CIDR block such as "10.0.0.0/8"',
        'spec.location: must be one of: MESH_EXTERNAL, MESH_INTERNAL (got "EXTERNAL")',
        'spec.resolution: must be one of: NONE, STATIC, DNS, DNS_ROUND_ROBIN (got "dns")',
      ],
    },
    {
      name: 'an endpoint without address and with a bad port',
      spec: { hosts: ['a.com'], ports: [http], resolution: 'STATIC', endpoints: [{ ports: { http: 70000 } }] },
      errors: [
        'spec.endpoints[0].address: required',
        'spec.endpoints[0].ports.http: must be an integer between 1 and 65535',
      ],
    },
  ]);
});
