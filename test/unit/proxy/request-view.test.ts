import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DownstreamRequest, splitTarget } from '../../../src/proxy/http/request-view.js';

test('origin-form keeps the Host header as the authority', () => {
  assert.deepEqual(splitTarget('/a/b?x=1', 'backend:80'), { authority: 'backend:80', path: '/a/b?x=1' });
  assert.deepEqual(splitTarget('/', undefined), { authority: '', path: '/' });
  assert.deepEqual(splitTarget('*', 'h'), { authority: 'h', path: '*' });
});

test('absolute-form gives the authority and the path, with or without a path or a query', () => {
  assert.deepEqual(splitTarget('http://backend:80/a?x=1', 'ignored'), { authority: 'backend:80', path: '/a?x=1' });
  assert.deepEqual(splitTarget('http://backend', undefined), { authority: 'backend', path: '/' });
  assert.deepEqual(splitTarget('http://backend?x=1', undefined), { authority: 'backend', path: '/?x=1' });
  assert.deepEqual(splitTarget('HTTP://Backend/x', undefined), { authority: 'Backend', path: '/x' });
  assert.deepEqual(splitTarget('https://api.example.com:8443/v1', undefined), {
    authority: 'api.example.com:8443',
    path: '/v1',
  });
  assert.deepEqual(splitTarget('http://[::1]:8080/x', undefined), { authority: '[::1]:8080', path: '/x' });
});

test('bad targets are undefined: other schemes, no scheme, no authority, userinfo', () => {
  for (const t of [
    'ftp://backend/x',
    'ws://backend/x',
    'backend/x',
    'http:/backend',
    '://backend/x',
    'http:///x',
    'http://',
    'http://user@backend/x',
    'http://user:pw@backend/',
    '',
  ]) {
    assert.equal(splitTarget(t, 'h'), undefined, t);
  }
});

test('header() answers pseudo-headers from the request and other names from the headers', () => {
  const r = new DownstreamRequest(
    'POST',
    'backend:80',
    '/a?x=1',
    ['host', 'other', 'x-one', 'a', 'x-many', 'a', 'x-many', 'b', 'cookie', 'c=1', 'cookie', 'd=2'],
    '10.0.0.1',
    false,
  );
  assert.equal(r.header(':authority'), 'backend:80');
  assert.equal(r.header(':path'), '/a?x=1');
  assert.equal(r.header(':method'), 'POST');
  assert.equal(r.header(':scheme'), 'http');
  assert.equal(r.header(':status'), undefined);
  assert.equal(r.header('host'), 'backend:80');
  assert.equal(r.header('x-one'), 'a');
  assert.equal(r.header('x-many'), 'a,b');
  assert.equal(r.header('cookie'), 'c=1; d=2');
  assert.equal(r.header('x-none'), undefined);
});

test('query() decodes parameters and keeps the first of repeated ones', () => {
  const r = new DownstreamRequest('GET', 'h', '/p?a=1&b=x%20y&a=2&empty=&flag', [], '', false);
  assert.equal(r.query('a'), '1');
  assert.equal(r.query('b'), 'x y');
  assert.equal(r.query('empty'), '');
  assert.equal(r.query('flag'), '');
  assert.equal(r.query('missing'), undefined);
  assert.equal(new DownstreamRequest('GET', 'h', '/p', [], '', false).query('a'), undefined);
});

test('grpc is true for application/grpc content types only', () => {
  const grpc = (ct: string | undefined): boolean =>
    new DownstreamRequest('POST', 'h', '/', ct === undefined ? [] : ['content-type', ct], '', true).grpc;
  assert.equal(grpc('application/grpc'), true);
  assert.equal(grpc('application/grpc+proto'), true);
  assert.equal(grpc('application/json'), false);
  assert.equal(grpc(undefined), false);
});
