/** PeerAuthentication, AuthorizationPolicy, RequestAuthentication: Istio samples and validation rules. */
import { test } from 'node:test';
import { assertValid, checkCases, doc } from './helpers.js';

const SEC = 'security.istio.io/v1';
const versions = ['v1', 'v1beta1'];

void test('PeerAuthentication samples are valid', () => {
  const samples: unknown[] = [
    // mesh-wide strict mTLS (in the root namespace)
    { mtls: { mode: 'STRICT' } },
    // permissive for one workload, disabled on one port
    {
      selector: { matchLabels: { app: 'finance' } },
      mtls: { mode: 'PERMISSIVE' },
      portLevelMtls: { '8080': { mode: 'DISABLE' } },
    },
    {},
  ];
  for (const v of versions)
    for (const spec of samples) assertValid(doc(`security.istio.io/${v}`, 'PeerAuthentication', spec));
});

void test('invalid PeerAuthentications', () => {
  checkCases(SEC, 'PeerAuthentication', [
    {
      name: 'a mode',
      spec: { mtls: { mode: 'MUTUAL' } },
      errors: ['spec.mtls.mode: must be one of: UNSET, DISABLE, PERMISSIVE, STRICT (got "MUTUAL")'],
    },
    {
      name: 'port-level settings without a selector',
      spec: { portLevelMtls: { '8080': { mode: 'DISABLE' } } },
      errors: ['spec.portLevelMtls: requires selector.matchLabels (port-level settings apply to selected workloads)'],
    },
    {
      name: 'a port key',
      spec: {
        selector: { matchLabels: { app: 'a' } },
        portLevelMtls: { http: { mode: 'DISABLE' }, '0': { mode: 'STRICT' } },
      },
      errors: [
        'spec.portLevelMtls.0: invalid key: must be a port number between 1 and 65535',
        'spec.portLevelMtls.http: invalid key: must be a port number between 1 and 65535',
      ],
    },
    {
      name: 'a selector without matchLabels',
      spec: { selector: { app: 'a' } },
      errors: ['spec.selector.app: unknown field'],
    },
  ]);
});

void test('AuthorizationPolicy samples are valid', () => {
  const samples: unknown[] = [
    // the reference's httpbin policy: from, to and when together
    {
      selector: { matchLabels: { app: 'httpbin', version: 'v1' } },
      action: 'ALLOW',
      rules: [
        {
          from: [
            { source: { principals: ['cluster.local/ns/default/sa/curl'] } },
            { source: { namespaces: ['test'] } },
          ],
          to: [
            { operation: { methods: ['GET'], paths: ['/info*'] } },
            { operation: { methods: ['POST'], paths: ['/data'] } },
          ],
          when: [{ key: 'request.auth.claims[iss]', values: ['https://accounts.google.com'] }],
        },
      ],
    },
    // deny requests from outside the foo namespace, except to health checks
    {
      action: 'DENY',
      rules: [
        {
          from: [{ source: { notNamespaces: ['foo'] } }],
          to: [{ operation: { notPaths: ['/healthz'], ports: ['8080'] } }],
        },
      ],
    },
    // allow nothing; allow all
    {},
    { rules: [{}] },
    // IP blocks, request principals and an audit rule
    {
      action: 'AUDIT',
      rules: [{ from: [{ source: { ipBlocks: ['1.2.3.4', '5.6.7.0/24'], remoteIpBlocks: ['10.0.0.0/8'] } }] }],
    },
    {
      rules: [
        {
          from: [
            {
              source: {
                requestPrincipals: ['testing@secure.istio.io/testing@secure.istio.io'],
                serviceAccounts: ['default/curl'],
              },
            },
          ],
          when: [
            { key: 'request.headers[x-token]', notValues: ['guest'] },
            { key: 'source.ip', values: ['10.1.2.3'] },
          ],
        },
      ],
    },
  ];
  for (const v of versions)
    for (const spec of samples) assertValid(doc(`security.istio.io/${v}`, 'AuthorizationPolicy', spec));
});

void test('invalid AuthorizationPolicies', () => {
  checkCases(SEC, 'AuthorizationPolicy', [
    {
      name: 'CUSTOM with a provider',
      spec: {
        action: 'CUSTOM',
        provider: { name: 'my-ext-authz' },
        rules: [{ to: [{ operation: { paths: ['/admin'] } }] }],
      },
      errors: ['spec.action: not supported: "CUSTOM" (supported: ALLOW, DENY, AUDIT)', 'spec.provider: not supported'],
    },
    {
      name: 'targetRef and targetRefs',
      spec: {
        targetRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' },
        targetRefs: [{ kind: 'Service', name: 's' }],
      },
      errors: ['spec.targetRef: not supported', 'spec.targetRefs: not supported'],
    },
    {
      name: 'an action',
      spec: { action: 'REJECT' },
      errors: ['spec.action: must be one of: ALLOW, DENY, AUDIT (got "REJECT")'],
    },
    {
      name: 'conditions',
      spec: { rules: [{ when: [{ key: 'request.host', values: ['a'] }, { key: 'source.ip' }] }] },
      errors: [
        'spec.rules[0].when[0].key: must be a supported attribute: request.headers[<name>], source.ip, remote.ip, source.namespace, source.principal, source.serviceAccount, request.auth.principal, request.auth.audiences, request.auth.presenter, request.auth.claims[<name>], destination.ip, destination.port or connection.sni',
        'spec.rules[0].when[1]: must set values or notValues',
      ],
    },
    {
      name: 'sources and operations',
      spec: {
        rules: [
          {
            from: [{ source: { ipBlocks: ['1.2.3.4/40'], user: ['x'] } }, {}],
            to: [{ operation: { ports: ['http', '80', 8080] } }],
          },
        ],
      },
      errors: [
        'spec.rules[0].from[0].source.ipBlocks[0]: must be an IP address or a CIDR block such as "10.0.0.0/8"',
        'spec.rules[0].from[0].source.user: unknown field',
        'spec.rules[0].from[1].source: required',
        'spec.rules[0].to[0].operation.ports[0]: must be a port number between 1 and 65535, as a string',
        'spec.rules[0].to[0].operation.ports[2]: must be a port number between 1 and 65535, as a string',
      ],
    },
  ]);
});

void test('RequestAuthentication samples are valid', () => {
  const samples: unknown[] = [
    // the JWT task: an issuer and its JWKS URL for the ingress gateway
    {
      selector: { matchLabels: { istio: 'ingressgateway' } },
      jwtRules: [
        {
          issuer: 'testing@secure.istio.io',
          jwksUri: 'https://raw.githubusercontent.com/istio/istio/release-1.24/security/tools/jwt/samples/jwks.json',
        },
      ],
    },
    // a token in a custom header and a query parameter, the payload forwarded
    {
      jwtRules: [
        {
          issuer: 'issuer-foo',
          audiences: ['bookstore_android.apps.example.com'],
          jwks: '{"keys":[]}',
          fromHeaders: [{ name: 'x-jwt-assertion', prefix: 'Bearer ' }],
          fromParams: ['my_token'],
          fromCookies: ['session'],
          outputPayloadToHeader: 'x-jwt-payload',
          outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }],
          forwardOriginalToken: true,
          timeout: '5s',
        },
      ],
    },
  ];
  for (const v of versions)
    for (const spec of samples) assertValid(doc(`security.istio.io/${v}`, 'RequestAuthentication', spec));
});

void test('invalid RequestAuthentications', () => {
  checkCases(SEC, 'RequestAuthentication', [
    {
      name: 'rules without issuer, with two key sources and a bad URL',
      spec: { jwtRules: [{ jwksUri: 'ftp://keys', jwks: '{}' }] },
      errors: [
        'spec.jwtRules[0].issuer: required',
        'spec.jwtRules[0].jwksUri: must be an http:// or https:// URL',
        'spec.jwtRules[0]: must set only one of: jwksUri, jwks (got jwksUri, jwks)',
      ],
    },
    {
      name: 'targetRef',
      spec: { targetRef: { kind: 'Gateway', name: 'gw' } },
      errors: ['spec.targetRef: not supported'],
    },
    {
      name: 'header names',
      spec: { jwtRules: [{ issuer: 'a', fromHeaders: [{ name: 'bad header' }], outputPayloadToHeader: '' }] },
      errors: [
        'spec.jwtRules[0].fromHeaders[0].name: must be an HTTP header name',
        'spec.jwtRules[0].outputPayloadToHeader: must be an HTTP header name',
      ],
    },
    {
      name: 'the snake_case alias',
      spec: { jwtRules: [{ issuer: 'a', jwks_uri: 'https://k' }] },
      errors: ['spec.jwtRules[0].jwks_uri: unknown field'],
    },
  ]);
});
