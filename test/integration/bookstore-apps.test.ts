/**
 * The bookstore example's apps as real processes, started from deployments.yaml as `shoal up` starts pods, each on
 * its own loopback address, without the mesh: a forward proxy stands in for the sidecars (HTTP_PROXY, absolute-form
 * requests to mesh names, routed by host), so the apps run exactly as they do in the mesh. Also: the manifests
 * against a real control plane, bad environments, and the load generator.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bookstoreContainers,
  BOOKSTORE_DIR,
  runBookstoreApp,
  runLoad,
  startBookstoreApp,
  startMeshStandIn,
  type BookstoreApp,
  type MeshStandIn,
} from '../helpers/bookstore.js';
import { runCli, startControl } from '../helpers/processes.js';
import { podIp, send } from '../helpers/sidecars.js';

const CATALOG = 'catalog.default.svc.cluster.local';
const REVIEWS = 'reviews.default.svc.cluster.local';
const RATINGS = 'ratings.default.svc.cluster.local';
const BOOK_IDS = ['time-machine', 'frankenstein', 'moby-dick', 'middlemarch'];
const REVIEWS_PATH = `/reviews?books=${encodeURIComponent(BOOK_IDS.join(','))}`;

let mesh: MeshStandIn;
const apps = new Map<string, BookstoreApp>();
const app = (name: string): BookstoreApp => apps.get(name)!;

before(async () => {
  mesh = await startMeshStandIn(podIp());
  const names = ['catalog', 'ratings', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'storefront'];
  const started = await Promise.all(names.map((d) => startBookstoreApp(d, { ip: podIp(), proxy: mesh.url })));
  for (const a of started) apps.set(a.deployment, a);
  mesh.routes.set(CATALOG, [app('catalog').url]);
  mesh.routes.set(RATINGS, [app('ratings').url]);
});

after(async () => {
  await Promise.all([...apps.values()].map((a) => a.stop()));
  await mesh.close();
});

/** Routes reviews to these versions in turn and forgets what the proxy saw. */
function reviewsTo(...versions: string[]): void {
  mesh.routes.set(
    REVIEWS,
    versions.map((v) => app(`reviews-${v}`).url),
  );
  mesh.seen.length = 0;
}

async function products(headers: Record<string, string> = {}) {
  const reply = await send(`${app('storefront').url}/api/products`, { headers });
  assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
  return { reply, body: JSON.parse(reply.text) };
}

const TIME_MACHINE = {
  id: 'time-machine',
  title: 'The Time Machine',
  author: 'H. G. Wells',
  year: 1895,
  summary: 'A Victorian inventor travels to the year 802,701 and finds what became of his own century.',
};

test('the Deployments run the compiled apps from the manifest directory with the pod environment', () => {
  const containers = bookstoreContainers();
  assert.deepEqual(
    [...containers.keys()],
    ['storefront', 'catalog', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings'],
  );
  assert.deepEqual(containers.get('reviews-v3'), {
    name: 'reviews',
    command: ['node', '../../dist/examples/bookstore/reviews.js'],
    env: [{ name: 'VERSION', value: 'v3' }],
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/healthz/ready', port: 8080 }, periodSeconds: 2 },
  });
  for (const [name, a] of apps) {
    assert.equal(a.proc.spawnargs[1], `../../dist/examples/bookstore/${name.replace(/-v\d$/, '')}.js`);
  }
});

test('every app is ready on /healthz/ready and names its pod and version on every answer', async () => {
  for (const [name, a] of apps) {
    const reply = await send(`${a.url}/healthz/ready`);
    assert.equal(reply.status, 200, name);
    assert.equal(reply.text, 'ready\n');
    assert.equal(reply.headers['x-bookstore-pod'], `${name}-0`);
    assert.equal(reply.headers['x-bookstore-version'], /-(v\d)$/.exec(name)?.[1] ?? 'v1');
  }
  const post = await send(`${app('catalog').url}/books`, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  const missing = await send(`${app('catalog').url}/nothing-here`);
  assert.deepEqual([missing.status, JSON.parse(missing.text)], [404, { error: 'no such path: /nothing-here' }]);
});

test('catalog, reviews and ratings answer their JSON APIs', async () => {
  const one = await send(`${app('catalog').url}/books/time-machine`);
  assert.deepEqual(JSON.parse(one.text), { pod: 'catalog-0', book: TIME_MACHINE });
  const unknown = await send(`${app('catalog').url}/books/no-such-book`);
  assert.deepEqual(
    [unknown.status, JSON.parse(unknown.text)],
    [404, { pod: 'catalog-0', error: 'no book with id "no-such-book"' }],
  );
  const list = JSON.parse((await send(`${app('catalog').url}/books`)).text);
  assert.deepEqual(
    list.books.map((b: { id: string }) => b.id),
    BOOK_IDS,
  );

  const ratings = await send(`${app('ratings').url}/ratings?books=moby-dick,unknown`);
  assert.deepEqual(JSON.parse(ratings.text), {
    pod: 'ratings-0',
    ratings: { 'moby-dick': { Marta: 4, Lee: 2 }, unknown: {} },
  });
  const bad = await send(`${app('ratings').url}/ratings?books=Moby%20Dick`);
  assert.deepEqual(
    [bad.status, JSON.parse(bad.text).error],
    [400, 'books: "Moby Dick" is not a book id (a-z, 0-9 and -)'],
  );
  const none = await send(`${app('reviews-v1').url}/reviews`);
  assert.deepEqual(
    [none.status, JSON.parse(none.text)],
    [400, { version: 'v1', pod: 'reviews-v1-0', error: 'books: required (comma-separated book ids)' }],
  );
});

test('reviews v1: the products with their reviews and no stars, through the proxy by mesh name', async () => {
  reviewsTo('v1');
  const { reply, body } = await products();
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-reviews-version'], 'v1');
  assert.deepEqual(body.storefront, { pod: 'storefront-0', version: 'v1' });
  assert.deepEqual(body.catalog, { pod: 'catalog-0' });
  assert.deepEqual(body.reviews, { version: 'v1', pod: 'reviews-v1-0' });
  assert.deepEqual(
    body.products.map((p: { id: string }) => p.id),
    BOOK_IDS,
  );
  assert.deepEqual(body.products[0], {
    ...TIME_MACHINE,
    reviews: [
      { reviewer: 'Ada', text: 'The Eloi and the Morlocks stay with you long after the last page.' },
      { reviewer: 'Jonah', text: 'Short, strange, and still ahead of its time.' },
    ],
  });
  assert.deepEqual(
    mesh.seen.map((r) => `${r.method} ${r.host}${r.path}`),
    [`GET ${CATALOG}/books`, `GET ${REVIEWS}${REVIEWS_PATH}`],
    'one catalog call and one reviews call; v1 does not call ratings',
  );
  assert.deepEqual(mesh.connects, [], 'absolute-form requests, never a CONNECT tunnel');
});

test('reviews v2 shows black stars and v3 red ones, from ratings', async () => {
  for (const [version, color] of [
    ['v2', 'black'],
    ['v3', 'red'],
  ] as const) {
    reviewsTo(version);
    const { reply, body } = await products();
    assert.equal(reply.headers['x-reviews-version'], version);
    assert.deepEqual(body.reviews, { version, pod: `reviews-${version}-0` });
    assert.deepEqual(body.products[1].reviews, [
      {
        reviewer: 'Priya',
        text: "The creature's own account is the heart of the book.",
        rating: { stars: 5, color },
      },
      {
        reviewer: 'Tom',
        text: 'Gothic & philosophical: read it for the creature, not the <movie>.',
        rating: { stars: 3, color },
      },
    ]);
    assert.deepEqual(
      mesh.seen.map((r) => `${r.host}${r.path}`),
      [`${CATALOG}/books`, `${REVIEWS}${REVIEWS_PATH}`, `${RATINGS}/ratings?books=${BOOK_IDS.join(',')}`],
    );
  }
});

test('the HTML page lists every book with its reviews, stars and the reviews version, escaped', async () => {
  reviewsTo('v3');
  const reply = await send(`${app('storefront').url}/`);
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(reply.headers['x-reviews-version'], 'v3');
  const html = reply.text;
  assert.ok(html.startsWith('<!doctype html>'));
  assert.ok(
    html.includes(
      '<p class="meta" id="served-by">Served by storefront pod storefront-0 · catalog pod catalog-0 · reviews v3 (pod reviews-v3-0)</p>',
    ),
    html,
  );
  for (const title of [
    'The Time Machine',
    'Frankenstein; or, The Modern Prometheus',
    'Moby-Dick; or, The Whale',
    'Middlemarch',
  ]) {
    assert.ok(html.includes(`<h2>${title}</h2>`), title);
  }
  assert.ok(
    html.includes(
      '<p class="review"><strong>Tom</strong> <span class="stars stars-red" style="color:red" title="3 of 5">★★★☆☆</span>' +
        '<br>Gothic &amp; philosophical: read it for the creature, not the &lt;movie&gt;.</p>',
    ),
  );
  assert.ok(html.includes('A provincial town &amp; its people'));
  assert.equal(html.match(/class="review"/g)?.length, 8);
  assert.equal(html.match(/class="notice"/g), null);

  reviewsTo('v1');
  const plain = (await send(`${app('storefront').url}/`)).text;
  assert.ok(plain.includes('reviews v1 (pod reviews-v1-0)'));
  assert.equal(plain.match(/class="review"/g)?.length, 8);
  assert.equal(plain.match(/class="stars/g), null, 'v1 shows no stars');
});

test('trace headers are copied to every call the request causes, and nothing else is', async () => {
  reviewsTo('v2');
  const trace = {
    'x-request-id': '6c2c4d7e-0f39-4d7a-9d4c-1f6b3c1e2a10',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'shoal=00f067aa0ba902b7',
    baggage: 'user=alice,region=eu',
    'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
    'x-b3-spanid': 'e457b5a2e4d86bd1',
    'x-b3-parentspanid': '05e3ac9a4f6e3b90',
    'x-b3-sampled': '1',
  };
  const { reply } = await products({ ...trace, cookie: 'session=secret', 'x-user': 'alice' });
  assert.equal(reply.status, 200);
  assert.deepEqual(
    mesh.seen.map((r) => r.host),
    [CATALOG, REVIEWS, RATINGS],
  );
  for (const r of mesh.seen) {
    for (const [name, value] of Object.entries(trace)) assert.equal(r.headers[name], value, `${name} to ${r.host}`);
    assert.equal(r.headers.cookie, undefined, `no cookie to ${r.host}`);
    assert.equal(r.headers['x-user'], undefined);
    assert.equal(r.headers.host, r.host, 'the Host header names the service');
  }

  mesh.seen.length = 0;
  await products();
  for (const r of mesh.seen) assert.equal(r.headers['x-request-id'], undefined, 'none invented');
});

test('load.ts sends what it is told and counts answers per status and reviews version', async () => {
  reviewsTo('v1', 'v2', 'v3');
  const load = await runLoad([
    '--url',
    `${app('storefront').url}/`,
    '--rate',
    '50',
    '--duration',
    '0.6',
    '--max-in-flight',
    '1000',
  ]);
  assert.equal(load.code, 0, load.stderr);
  const lines = load.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 6), [
    `load: 30 requests planned to ${app('storefront').url}/ at 50/s for 0.6 s`,
    'sent 30, answered 30, no answer 0, skipped 0 (max in flight)',
    'status 200: 30',
    'reviews v1: 10',
    'reviews v2: 10',
    'reviews v3: 10',
  ]);
  assert.match(lines[6]!, /^latency ms: p50 [\d.]+ p90 [\d.]+ p99 [\d.]+ max [\d.]+$/);
  assert.equal(lines.length, 7);
  assert.equal(mesh.seen.filter((r) => r.host === CATALOG).length, 30, 'the storefront got 30 requests');

  const json = await runLoad(['--url', `${app('catalog').url}/books`, '--rate', '100', '--duration', '0.05', '--json']);
  const report = JSON.parse(json.stdout);
  assert.deepEqual(
    { ...report, latencyMs: null },
    {
      url: `${app('catalog').url}/books`,
      rate: 100,
      duration: 0.05,
      planned: 5,
      sent: 5,
      skipped: 0,
      statuses: { '200': 5 },
      reviewsVersions: { none: 5 },
      errors: {},
      latencyMs: null,
    },
  );

  const closed = await runLoad(['--url', `http://${podIp()}:9/`, '--rate', '100', '--duration', '0.03']);
  assert.equal(closed.code, 0);
  assert.ok(closed.stdout.includes('sent 3, answered 0, no answer 3, skipped 0'), closed.stdout);
  assert.ok(closed.stdout.includes('error ECONNREFUSED: 3'), closed.stdout);
  assert.ok(!closed.stdout.includes('latency'));
});

test('load.ts rejects bad flags with one line naming the flag', async () => {
  const cases: [string[], string][] = [
    [['--rate', '0'], 'load: --rate: must be a number from 1 to 1000 (got "0")'],
    [['--duration', 'ten'], 'load: --duration: must be a number from 0 to 600 (got "ten")'],
    [['--max-in-flight', '1.5'], 'load: --max-in-flight: must be an integer from 1 to 1000 (got "1.5")'],
    [['--url', 'https://example.com/'], 'load: --url: must be an http:// URL (got "https://example.com/")'],
    [['--proxy', 'nope'], 'load: --proxy: not a URL (got "nope")'],
    [['--bogus'], "load: Unknown option '--bogus'"],
  ];
  for (const [args, message] of cases) {
    const r = await runLoad(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.startsWith(message), `${args.join(' ')}: ${r.stderr}`);
  }
});

test('without ratings, reviews v2 answers without stars and the page says ratings are unavailable', async () => {
  reviewsTo('v2');
  mesh.routes.delete(RATINGS);
  try {
    const { reply, body } = await products();
    assert.equal(reply.status, 200);
    assert.deepEqual(body.reviews, {
      version: 'v2',
      pod: 'reviews-v2-0',
      ratingsError: 'ratings answered 404 NR: no route',
    });
    assert.deepEqual(body.products[2].reviews, [
      { reviewer: 'Marta', text: 'The chapters about whales are a voyage of their own.' },
      { reviewer: 'Lee', text: 'Call it long; I call it generous.' },
    ]);
    const html = (await send(`${app('storefront').url}/`)).text;
    assert.ok(
      html.includes('<p class="notice">Ratings are unavailable right now (ratings answered 404 NR: no route).</p>'),
    );
    assert.equal(html.match(/class="review"/g)?.length, 8);
  } finally {
    mesh.routes.set(RATINGS, [app('ratings').url]);
  }
});

test('when reviews is down the page still renders the books, with a message; without catalog it is 503', async () => {
  reviewsTo('v1');
  const stopped = await startBookstoreApp('reviews-v1', { ip: podIp(), pod: 'reviews-v1-gone', proxy: mesh.url });
  assert.equal(await stopped.stop(), 0, 'SIGTERM: graceful exit 0');
  mesh.routes.set(REVIEWS, [stopped.url]);

  const { reply, body } = await products();
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-reviews-version'], 'unavailable');
  assert.deepEqual(body.reviews, { error: 'reviews answered 503 UF: upstream connect error' });
  assert.deepEqual(body.products[0], { ...TIME_MACHINE, reviews: null });
  const page = await send(`${app('storefront').url}/`);
  assert.equal(page.status, 200);
  assert.ok(
    page.text.includes(
      '<p class="notice">Reviews are unavailable right now (reviews answered 503 UF: upstream connect error).</p>',
    ),
  );
  assert.ok(page.text.includes('<h2>Middlemarch</h2>'));
  assert.equal(page.text.match(/class="review"/g), null);

  mesh.routes.delete(CATALOG);
  try {
    const down = await products();
    assert.equal(down.reply.status, 503);
    assert.deepEqual(down.body.catalog, { error: 'catalog answered 404 NR: no route' });
    assert.deepEqual(down.body.products, []);
    const html = await send(`${app('storefront').url}/`);
    assert.equal(html.status, 503);
    assert.ok(
      html.text.includes(
        '<p class="notice">The catalog is unavailable right now (catalog answered 404 NR: no route).</p>',
      ),
    );
  } finally {
    mesh.routes.set(CATALOG, [app('catalog').url]);
  }
});

test('<SERVICE>_URL points an app straight at another, without a proxy', async () => {
  const direct = await startBookstoreApp('storefront', {
    ip: podIp(),
    pod: 'storefront-direct',
    env: { CATALOG_URL: app('catalog').url, REVIEWS_URL: `${app('reviews-v3').url}/` },
  });
  try {
    mesh.seen.length = 0;
    const reply = await send(`${direct.url}/api/products`);
    const body = JSON.parse(reply.text);
    assert.deepEqual(body.reviews, { version: 'v3', pod: 'reviews-v3-0' });
    assert.deepEqual(
      mesh.seen.map((r) => r.host),
      [RATINGS],
      'only reviews v3 (which has HTTP_PROXY) went through the proxy',
    );
  } finally {
    assert.equal(await direct.stop(), 0);
  }
});

test('on SIGTERM an app reports not ready, keeps serving for SHUTDOWN_DELAY_SECONDS, then exits 0', async () => {
  const a = await startBookstoreApp('catalog', { ip: podIp(), env: { SHUTDOWN_DELAY_SECONDS: '5' } });
  a.proc.kill('SIGTERM');
  const deadline = Date.now() + 4000;
  let ready = await send(`${a.url}/healthz/ready`);
  while (ready.status === 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    ready = await send(`${a.url}/healthz/ready`);
  }
  assert.deepEqual([ready.status, ready.text], [503, 'draining\n']);
  assert.equal((await send(`${a.url}/books`)).status, 200, 'still serving while draining');
  assert.equal(await a.exited, 0);
});

test('a bad environment stops an app with one line naming the variable', async () => {
  const cases: [string, Record<string, string>, string][] = [
    ['catalog', { PORT: 'http' }, 'catalog: PORT: must be an integer from 0 to 65535 (got "http")\n'],
    ['reviews', { PORT: '0' }, 'reviews: VERSION: must be v1, v2 or v3 (got nothing)\n'],
    ['reviews', { PORT: '0', VERSION: 'v4' }, 'reviews: VERSION: must be v1, v2 or v3 (got "v4")\n'],
    [
      'storefront',
      { PORT: '0', CATALOG_URL: 'ftp://catalog' },
      'storefront: CATALOG_URL: must be an http:// URL without query or fragment (got "ftp://catalog")\n',
    ],
    [
      'ratings',
      { PORT: '0', SHUTDOWN_DELAY_SECONDS: '-1' },
      'ratings: SHUTDOWN_DELAY_SECONDS: must be an integer from 0 to 300 (got "-1")\n',
    ],
  ];
  for (const [file, env, message] of cases) {
    const r = await runBookstoreApp(file, { HOST: podIp(), ...env });
    assert.deepEqual([r.code, r.stderr, r.stdout], [2, message, ''], `${file} ${JSON.stringify(env)}`);
  }
});

test('shoal apply accepts the whole example directory: Deployments, Services and traffic rules', async () => {
  const control = await startControl();
  try {
    const apply = await runCli(['apply', '-f', BOOKSTORE_DIR], control.env);
    assert.equal(apply.code, 0, apply.stderr);
    assert.deepEqual(apply.stdout.trim().split('\n'), [
      'deployment.apps/storefront created',
      'deployment.apps/catalog created',
      'deployment.apps/reviews-v1 created',
      'deployment.apps/reviews-v2 created',
      'deployment.apps/reviews-v3 created',
      'deployment.apps/ratings created',
      'service/storefront created',
      'service/catalog created',
      'service/reviews created',
      'service/ratings created',
      'gateway.networking.istio.io/bookstore-gateway created',
      'virtualservice.networking.istio.io/storefront created',
      'destinationrule.networking.istio.io/reviews created',
      'virtualservice.networking.istio.io/reviews created',
    ]);
    const get = await runCli(['get', 'deployments', '-o', 'json'], control.env);
    const items = JSON.parse(get.stdout).items as { metadata: { name: string; labels: Record<string, string> } }[];
    assert.deepEqual(
      items.map((d) => `${d.metadata.name} ${d.metadata.labels.app}/${d.metadata.labels.version}`).sort(),
      [
        'catalog catalog/v1',
        'ratings ratings/v1',
        'reviews-v1 reviews/v1',
        'reviews-v2 reviews/v2',
        'reviews-v3 reviews/v3',
        'storefront storefront/v1',
      ],
    );
  } finally {
    await control.stop();
  }
});
