/** Protocol selection: Istio's explicit rules (appProtocol, then the port name's prefix) onto Shoal's names. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseProtocol,
  protocolFromPortName,
  serviceEntryPortProtocol,
  servicePortProtocol,
} from '../../../src/registry/protocol.js';

void describe('servicePortProtocol', () => {
  const cases: [string, Parameters<typeof servicePortProtocol>[0], string][] = [
    ['name http', { name: 'http', port: 80 }, 'HTTP'],
    ['name http-web', { name: 'http-web', port: 80 }, 'HTTP'],
    ['name HTTP-web, case-insensitive', { name: 'HTTP-web', port: 80 }, 'HTTP'],
    ['name http2', { name: 'http2', port: 80 }, 'HTTP2'],
    ['name grpc-api', { name: 'grpc-api', port: 9000 }, 'GRPC'],
    ['name grpc-web (before the "-" split)', { name: 'grpc-web', port: 9000 }, 'HTTP2'],
    ['name grpc-web-ui', { name: 'grpc-web-ui', port: 9000 }, 'HTTP2'],
    ['name https', { name: 'https', port: 443 }, 'HTTPS'],
    ['name tls-db', { name: 'tls-db', port: 5432 }, 'TLS'],
    ['name tcp', { name: 'tcp', port: 5432 }, 'TCP'],
    ['name mongo (opaque TCP)', { name: 'mongo', port: 1234 }, 'TCP'],
    ['name mysql-x', { name: 'mysql-x', port: 1234 }, 'TCP'],
    ['name redis', { name: 'redis', port: 6379 }, 'TCP'],
    ['name http_proxy', { name: 'http_proxy', port: 3128 }, 'HTTP'],
    ['unknown name', { name: 'web', port: 80 }, 'UNKNOWN'],
    ['prefix must be whole: httpx', { name: 'httpx', port: 80 }, 'UNKNOWN'],
    ['unnamed', { port: 8080 }, 'UNKNOWN'],
    ['unnamed on MySQL port', { port: 3306 }, 'TCP'],
    ['unknown name on MongoDB port', { name: 'db', port: 27017 }, 'TCP'],
    ['unknown name on DNS port', { name: 'dns', port: 53 }, 'TCP'],
    ['unknown name on SMTP port', { name: 'mail', port: 25 }, 'TCP'],
    ['a name cannot make UDP', { name: 'udp-x', port: 5000 }, 'UNKNOWN'],
    ['protocol UDP', { name: 'http', port: 53, protocol: 'UDP' }, 'UDP'],
    ['protocol TCP does not decide', { name: 'http', port: 80, protocol: 'TCP' }, 'HTTP'],
    ['appProtocol wins over name', { name: 'http', port: 80, appProtocol: 'grpc' }, 'GRPC'],
    ['appProtocol with suffix', { name: 'x', port: 80, appProtocol: 'http2-foo' }, 'HTTP2'],
    ['appProtocol kubernetes.io/h2c', { name: 'http', port: 80, appProtocol: 'kubernetes.io/h2c' }, 'HTTP2'],
    ['appProtocol kubernetes.io/ws', { port: 80, appProtocol: 'kubernetes.io/ws' }, 'HTTP'],
    ['appProtocol kubernetes.io/wss', { port: 443, appProtocol: 'kubernetes.io/wss' }, 'HTTPS'],
    ['unknown appProtocol ignores the name', { name: 'http', port: 80, appProtocol: 'example.com/x' }, 'UNKNOWN'],
    ['UDP beats appProtocol', { port: 53, protocol: 'UDP', appProtocol: 'http' }, 'UDP'],
  ];
  for (const [title, port, want] of cases) {
    void it(title, () => assert.equal(servicePortProtocol(port), want));
  }
});

void describe('ServiceEntry port protocols', () => {
  void it('parse the protocol field case-insensitively; absent or unknown is UNKNOWN', () => {
    assert.equal(serviceEntryPortProtocol('HTTP'), 'HTTP');
    assert.equal(serviceEntryPortProtocol('https'), 'HTTPS');
    assert.equal(serviceEntryPortProtocol('GRPC'), 'GRPC');
    assert.equal(serviceEntryPortProtocol('GRPC-WEB'), 'HTTP2');
    assert.equal(serviceEntryPortProtocol('HTTP2'), 'HTTP2');
    assert.equal(serviceEntryPortProtocol('TLS'), 'TLS');
    assert.equal(serviceEntryPortProtocol('TCP'), 'TCP');
    assert.equal(serviceEntryPortProtocol('UDP'), 'UDP');
    assert.equal(serviceEntryPortProtocol('MONGO'), 'TCP');
    assert.equal(serviceEntryPortProtocol('HTTP_PROXY'), 'HTTP');
    assert.equal(serviceEntryPortProtocol(undefined), 'UNKNOWN');
    assert.equal(serviceEntryPortProtocol('SCTP'), 'UNKNOWN');
  });

  void it('parseProtocol takes whole names only; protocolFromPortName takes prefixes', () => {
    assert.equal(parseProtocol('http-web'), 'UNKNOWN');
    assert.equal(protocolFromPortName('http-web'), 'HTTP');
    assert.equal(protocolFromPortName(''), 'UNKNOWN');
  });
});
