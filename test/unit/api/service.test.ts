/** Core v1 Service: ports, headless services, what Shoal does not support. */
import { test } from 'node:test';
import { assertValid, checkCases, doc } from './helpers.js';

void test('Service samples are valid', () => {
  const samples: unknown[] = [
    // bookinfo's reviews service
    { ports: [{ port: 9080, name: 'http' }], selector: { app: 'reviews' } },
    {
      type: 'ClusterIP',
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', appProtocol: 'http' },
        { name: 'grpc', port: 9090, targetPort: 'grpc-port' },
      ],
      selector: { app: 'api' },
    },
    // a headless service, with and without ports
    { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] },
    { clusterIP: 'None', selector: { app: 'db' } },
    {
      clusterIP: '10.96.0.10',
      ports: [
        { port: 53, protocol: 'UDP', name: 'dns' },
        { port: 53, protocol: 'TCP', name: 'dns-tcp' },
      ],
    },
  ];
  for (const spec of samples) assertValid(doc('v1', 'Service', spec));
});

void test('invalid Services', () => {
  checkCases('v1', 'Service', [
    {
      name: 'no ports',
      spec: { selector: { app: 'a' } },
      errors: ['spec.ports: required: at least one port (only a headless service, clusterIP: None, may have none)'],
    },
    {
      name: 'other service types',
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
      errors: ['spec.type: not supported: "LoadBalancer" (supported: ClusterIP)'],
    },
    {
      name: 'NodePort',
      spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] },
      errors: ['spec.ports[0].nodePort: unknown field', 'spec.type: not supported: "NodePort" (supported: ClusterIP)'],
    },
    {
      name: 'a clusterIP',
      spec: { clusterIP: 'auto', ports: [{ port: 80 }] },
      errors: ['spec.clusterIP: must be "None" (a headless service) or an IP address'],
    },
    {
      name: 'ports',
      spec: {
        ports: [
          { port: 0, targetPort: 'HTTP', protocol: 'HTTP' },
          { name: 'http', port: 80, targetPort: true },
        ],
      },
      errors: [
        'spec.ports[0].name: required when there is more than one port',
        'spec.ports[0].port: must be an integer between 1 and 65535',
        'spec.ports[0].protocol: must be one of: TCP, UDP, SCTP (got "HTTP")',
        'spec.ports[0].targetPort: must be an IANA service name: at most 15 lower-case alphanumerics or "-", with at least one letter',
        'spec.ports[1].targetPort: must be a number or a string, got true',
      ],
    },
    {
      name: 'duplicates',
      spec: {
        ports: [
          { name: 'http', port: 80 },
          { name: 'http', port: 80, protocol: 'TCP' },
        ],
      },
      errors: ['spec.ports[1]: duplicate port 80/TCP', 'spec.ports[1].name: duplicate port name "http"'],
    },
    {
      name: 'a selector',
      spec: { ports: [{ port: 80 }], selector: { matchLabels: { app: 'a' } } },
      errors: ['spec.selector.matchLabels: must be a string, got an object'],
    },
    { name: 'a null spec', spec: null, errors: ['spec: must be an object, got null'] },
  ]);
});
