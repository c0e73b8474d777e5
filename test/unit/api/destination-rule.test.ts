/** DestinationRule: Istio documentation samples and traffic-policy validation. */
import { test } from 'node:test';
import { assertValid, checkCases, doc } from './helpers.js';

const DR = 'networking.istio.io/v1';
const version = (v: string): unknown => ({ name: v, labels: { version: v } });

void test('documentation samples are valid', () => {
  const samples: unknown[] = [
    // bookinfo destination-rule-all: reviews subsets
    { host: 'reviews', subsets: [version('v1'), version('v2'), version('v3')] },
    // a policy for the host and an override for one subset
    {
      host: 'my-svc',
      trafficPolicy: { loadBalancer: { simple: 'RANDOM' } },
      subsets: [
        version('v1'),
        { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } },
        version('v3'),
      ],
    },
    // circuit breaking for httpbin
    {
      host: 'httpbin',
      trafficPolicy: {
        connectionPool: {
          tcp: { maxConnections: 1 },
          http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 },
        },
        outlierDetection: { consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '3m', maxEjectionPercent: 100 },
      },
    },
    // sticky sessions by cookie, and by header with a ring hash
    {
      host: 'bookinfo-ratings.prod.svc.cluster.local',
      trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: 'user', ttl: '0s' } } } },
    },
    {
      host: 'ratings',
      trafficPolicy: {
        loadBalancer: { consistentHash: { httpHeaderName: 'x-user', ringHash: { minimumRingSize: 1024 } } },
      },
    },
    {
      host: 'ratings',
      trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 65537 } } } },
    },
    // per-port load balancing
    {
      host: 'bookinfo-ratings.prod.svc.cluster.local',
      trafficPolicy: {
        portLevelSettings: [
          { port: { number: 80 }, loadBalancer: { simple: 'LEAST_REQUEST' } },
          { port: { number: 9080 }, loadBalancer: { simple: 'ROUND_ROBIN' } },
        ],
      },
    },
    // TLS origination to an external host, and mutual TLS with files
    {
      host: 'edition.cnn.com',
      trafficPolicy: {
        portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'SIMPLE', sni: 'edition.cnn.com' } }],
      },
    },
    {
      host: '*.example.com',
      trafficPolicy: {
        tls: {
          mode: 'MUTUAL',
          clientCertificate: '/etc/certs/client.pem',
          privateKey: '/etc/certs/key.pem',
          caCertificates: '/etc/certs/ca.pem',
        },
      },
    },
    { host: 'reviews', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
    // locality-weighted distribution and failover
    {
      host: 'helloworld.sample.svc.cluster.local',
      trafficPolicy: {
        loadBalancer: {
          localityLbSetting: {
            enabled: true,
            distribute: [{ from: 'region1/zone1/*', to: { 'region1/zone1/*': 70, 'region1/zone2/*': 30 } }],
          },
        },
        outlierDetection: { consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '1m' },
      },
    },
    {
      host: 'helloworld',
      trafficPolicy: {
        loadBalancer: {
          simple: 'ROUND_ROBIN',
          localityLbSetting: { enabled: true, failover: [{ from: 'region1', to: 'region2' }] },
        },
      },
    },
    {
      host: 'db',
      trafficPolicy: {
        connectionPool: {
          tcp: { maxConnections: 100, connectTimeout: '30ms', tcpKeepalive: { time: '7200s', interval: '75s' } },
        },
      },
    },
    { host: 'reviews', workloadSelector: { matchLabels: { app: 'productpage' } }, exportTo: ['.'] },
  ];
  for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
    for (const spec of samples) assertValid(doc(`networking.istio.io/${v}`, 'DestinationRule', spec));
  }
});

void test('invalid DestinationRules', () => {
  const lb = (loadBalancer: unknown): unknown => ({ host: 'r', trafficPolicy: { loadBalancer } });
  checkCases(DR, 'DestinationRule', [
    { name: 'no host', spec: { subsets: [version('v1')] }, errors: ['spec.host: required'] },
    {
      name: 'simple and consistentHash',
      spec: lb({ simple: 'RANDOM', consistentHash: { useSourceIp: true } }),
      errors: [
        'spec.trafficPolicy.loadBalancer: must set only one of: simple, consistentHash (got simple, consistentHash)',
      ],
    },
    {
      name: 'two hash keys',
      spec: lb({ consistentHash: { httpHeaderName: 'x', useSourceIp: true } }),
      errors: [
        'spec.trafficPolicy.loadBalancer.consistentHash: must set only one of: httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName (got httpHeaderName, useSourceIp)',
      ],
    },
    {
      name: 'no hash key',
      spec: lb({ consistentHash: { ringHash: {} } }),
      errors: [
        'spec.trafficPolicy.loadBalancer.consistentHash: must set one of: httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName',
      ],
    },
    {
      name: 'PASSTHROUGH',
      spec: lb({ simple: 'PASSTHROUGH' }),
      errors: [
        'spec.trafficPolicy.loadBalancer.simple: not supported: "PASSTHROUGH" (supported: UNSPECIFIED, LEAST_CONN, RANDOM, ROUND_ROBIN, LEAST_REQUEST)',
      ],
    },
    {
      name: 'an unknown algorithm',
      spec: lb({ simple: 'FASTEST' }),
      errors: [
        'spec.trafficPolicy.loadBalancer.simple: must be one of: UNSPECIFIED, LEAST_CONN, RANDOM, ROUND_ROBIN, LEAST_REQUEST (got "FASTEST")',
      ],
    },
    {
      name: 'locality weights',
      spec: lb({
        localityLbSetting: {
          distribute: [{ from: 'a/*', to: { 'a/*': 60, 'b/*': 30 } }],
          failover: [{ from: 'a', to: 'b' }],
        },
      }),
      errors: [
        'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: weights must sum to 100, got 90',
        'spec.trafficPolicy.loadBalancer.localityLbSetting: must set only one of: distribute, failover (got distribute, failover)',
      ],
    },
    {
      name: 'unsupported policies',
      spec: {
        host: 'r',
        trafficPolicy: {
          tunnel: { protocol: 'CONNECT', targetHost: 'h', targetPort: 8080 },
          proxyProtocol: { version: 'V2' },
          tls: { mode: 'SIMPLE', credentialName: 'cacerts' },
        },
      },
      errors: [
        'spec.trafficPolicy.proxyProtocol: not supported',
        'spec.trafficPolicy.tls.credentialName: not supported',
        'spec.trafficPolicy.tunnel: not supported',
      ],
    },
    {
      name: 'MUTUAL without certificates',
      spec: { host: 'r', trafficPolicy: { tls: { mode: 'MUTUAL' } } },
      errors: [
        'spec.trafficPolicy.tls.clientCertificate: required when mode is MUTUAL',
        'spec.trafficPolicy.tls.privateKey: required when mode is MUTUAL',
      ],
    },
    {
      name: 'TLS without mode',
      spec: { host: 'r', trafficPolicy: { tls: { sni: 'x' } } },
      errors: ['spec.trafficPolicy.tls.mode: required'],
    },
    {
      name: 'outlier detection values',
      spec: {
        host: 'r',
        trafficPolicy: { outlierDetection: { interval: '10', maxEjectionPercent: 101, consecutive5xxErrors: -1 } },
      },
      errors: [
        'spec.trafficPolicy.outlierDetection.consecutive5xxErrors: must be an integer of at least 0',
        'spec.trafficPolicy.outlierDetection.interval: must be a duration such as "1.5s", "100ms", "2m" or "1h"',
        'spec.trafficPolicy.outlierDetection.maxEjectionPercent: must be an integer between 0 and 100',
      ],
    },
    {
      name: 'connection pool values',
      spec: {
        host: 'r',
        trafficPolicy: {
          connectionPool: { tcp: { maxConnections: 0 }, http: { h2UpgradePolicy: 'ALWAYS', maxRequests: 5 } },
        },
      },
      errors: [
        'spec.trafficPolicy.connectionPool.http.h2UpgradePolicy: must be one of: DEFAULT, DO_NOT_UPGRADE, UPGRADE (got "ALWAYS")',
        'spec.trafficPolicy.connectionPool.http.maxRequests: unknown field',
        'spec.trafficPolicy.connectionPool.tcp.maxConnections: must be an integer of at least 1',
      ],
    },
    {
      name: 'a port-level setting without port',
      spec: { host: 'r', trafficPolicy: { portLevelSettings: [{ loadBalancer: { simple: 'RANDOM' } }] } },
      errors: ['spec.trafficPolicy.portLevelSettings[0].port: required'],
    },
    {
      name: 'subsets',
      spec: { host: 'r', subsets: [version('v1'), version('v1'), { labels: { version: 'v3' } }, { name: 'V4' }] },
      errors: [
        'spec.subsets[1].name: duplicate subset name "v1"',
        'spec.subsets[2].name: required',
        'spec.subsets[3].name: must be a DNS-1123 label: at most 63 lower-case alphanumerics or "-", starting and ending with an alphanumeric',
      ],
    },
    {
      name: 'a subset policy is a full traffic policy',
      spec: {
        host: 'r',
        subsets: [
          { name: 'v1', trafficPolicy: { loadBalancer: { simple: 'RANDOM', consistentHash: { useSourceIp: true } } } },
        ],
      },
      errors: [
        'spec.subsets[0].trafficPolicy.loadBalancer: must set only one of: simple, consistentHash (got simple, consistentHash)',
      ],
    },
    {
      name: 'slow start (warmup) is not supported yet',
      spec: lb({ warmupDurationSecs: '10s', warmup: { duration: '10s' } }),
      errors: [
        'spec.trafficPolicy.loadBalancer.warmupDurationSecs: not supported',
        'spec.trafficPolicy.loadBalancer.warmup: not supported',
      ],
    },
    {
      name: 'a label selector of the networking kind',
      spec: { host: 'r', workloadSelector: { labels: { app: 'a' } } },
      errors: ['spec.workloadSelector.labels: unknown field'],
    },
  ]);
});
