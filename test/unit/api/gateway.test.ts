/** Gateway: ingress and egress samples, TLS settings, server hosts. */
import { test } from 'node:test';
import { assertValid, checkCases, doc } from './helpers.js';

const GW = 'networking.istio.io/v1';
const httpServer = { port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['*'] };

void test('documentation samples are valid', () => {
  const samples: unknown[] = [
    // bookinfo-gateway
    { selector: { istio: 'ingressgateway' }, servers: [httpServer] },
    // HTTPS ingress with certificate files
    {
      selector: { istio: 'ingressgateway' },
      servers: [
        {
          port: { number: 443, name: 'https', protocol: 'HTTPS' },
          hosts: ['httpbin.example.com'],
          tls: {
            mode: 'SIMPLE',
            serverCertificate: '/etc/istio/ingressgateway-certs/tls.crt',
            privateKey: '/etc/istio/ingressgateway-certs/tls.key',
          },
        },
      ],
    },
    // the reference's my-gateway: redirect to HTTPS, mutual TLS, passthrough, namespaced hosts
    {
      selector: { app: 'my-gateway-controller' },
      servers: [
        {
          port: { number: 80, name: 'http', protocol: 'HTTP' },
          hosts: ['uk.bookinfo.com', 'eu.bookinfo.com'],
          tls: { httpsRedirect: true },
        },
        {
          port: { number: 443, name: 'https-443', protocol: 'HTTPS' },
          hosts: ['uk.bookinfo.com', 'eu.bookinfo.com'],
          tls: {
            mode: 'SIMPLE',
            serverCertificate: '/etc/certs/servercert.pem',
            privateKey: '/etc/certs/privatekey.pem',
          },
        },
        {
          port: { number: 9443, name: 'https-9443', protocol: 'HTTPS' },
          hosts: ['bookinfo-namespace/*.bookinfo.com'],
          tls: {
            mode: 'MUTUAL',
            serverCertificate: '/etc/certs/s.pem',
            privateKey: '/etc/certs/k.pem',
            caCertificates: '/etc/certs/ca.pem',
            minProtocolVersion: 'TLSV1_2',
          },
        },
        { port: { number: 9080, name: 'http-wildcard', protocol: 'HTTP' }, hosts: ['./*', '*/foo.example.com'] },
        { port: { number: 2379, name: 'mongo', protocol: 'TCP' }, hosts: ['*'] },
      ],
    },
    // egress gateway passing TLS through
    {
      selector: { istio: 'egressgateway' },
      servers: [
        {
          port: { number: 443, name: 'tls', protocol: 'TLS' },
          hosts: ['edition.cnn.com'],
          tls: { mode: 'PASSTHROUGH' },
        },
      ],
    },
  ];
  for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
    for (const spec of samples) assertValid(doc(`networking.istio.io/${v}`, 'Gateway', spec));
  }
});

void test('invalid Gateways', () => {
  const https = (tls: unknown): unknown => ({
    servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.com'], tls }],
  });
  checkCases(GW, 'Gateway', [
    { name: 'no servers', spec: { selector: { istio: 'ingressgateway' } }, errors: ['spec.servers: required'] },
    {
      name: 'HTTPS without TLS settings',
      spec: { servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.com'] }] },
      errors: ['spec.servers[0].tls: required when port.protocol is HTTPS'],
    },
    {
      name: 'a Kubernetes secret',
      spec: https({ mode: 'SIMPLE', credentialName: 'httpbin-credential' }),
      errors: [
        'spec.servers[0].tls.credentialName: not supported',
        'spec.servers[0].tls.privateKey: required when mode is SIMPLE',
        'spec.servers[0].tls.serverCertificate: required when mode is SIMPLE',
      ],
    },
    {
      name: 'MUTUAL without a CA',
      spec: https({ mode: 'MUTUAL', serverCertificate: 'a', privateKey: 'b' }),
      errors: ['spec.servers[0].tls.caCertificates: required when mode is MUTUAL'],
    },
    {
      name: 'AUTO_PASSTHROUGH',
      spec: https({ mode: 'AUTO_PASSTHROUGH' }),
      errors: [
        'spec.servers[0].tls.mode: not supported: "AUTO_PASSTHROUGH" (supported: PASSTHROUGH, SIMPLE, MUTUAL, ISTIO_MUTUAL, OPTIONAL_MUTUAL)',
      ],
    },
    {
      name: 'server hosts',
      spec: {
        servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['Bad_NS/a.com', 'ns/a..com'] }],
      },
      errors: [
        'spec.servers[0].hosts[0]: invalid namespace "Bad_NS": must be "*", "." or a namespace name',
        'spec.servers[0].hosts[1]: invalid host "a..com": must be an FQDN, a short name, "*.example.com", "*" or an IP address',
      ],
    },
    {
      name: 'a server without hosts',
      spec: { servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' } }] },
      errors: ['spec.servers[0].hosts: required'],
    },
    {
      name: 'a port without protocol and name',
      spec: { servers: [{ port: { number: 80 }, hosts: ['*'] }] },
      errors: ['spec.servers[0].port.name: required', 'spec.servers[0].port.protocol: required'],
    },
    {
      name: 'one port, two protocols; duplicate server names',
      spec: {
        servers: [
          { ...httpServer, name: 'a' },
          { port: { number: 8080, name: 'tcp', protocol: 'TCP' }, hosts: ['*'], name: 'a' },
        ],
      },
      errors: [
        'spec.servers[1].name: duplicate server name "a"',
        'spec.servers[1].port.protocol: port 8080 is already used with protocol HTTP',
      ],
    },
    {
      name: 'a selector that is not a label map',
      spec: { selector: { matchLabels: { a: 'b' } }, servers: [httpServer] },
      errors: ['spec.selector.matchLabels: must be a string, got an object'],
    },
  ]);
});
