/**
 * storefront: the bookstore's front door, and the only service the ingress gateway routes to.
 * - `GET /`: an HTML page, every book with its reviews and their stars, saying which reviews version answered;
 * - `GET /api/products`: the same as JSON;
 * - `GET /healthz/ready`: readiness.
 * It calls catalog (the books) and then reviews (one call for all the books, so one page shows one reviews
 * version), copying the request's trace headers to both. If reviews (or, behind it, ratings) fails, the page still
 * renders, with a message; if catalog fails there is nothing to show: 503 with a message. Every answer has
 * `x-reviews-version`: the version that answered, or `unavailable`.
 */
import type { ServerResponse } from 'node:http';
import { dependencyUrl, escapeHtml, main, sendJson, sendText, Upstream, type TraceHeaders } from './lib/app.js';
import { bookListSchema, reviewsReplySchema, type Book, type Review } from './lib/model.js';

interface Product extends Book {
  /** null when reviews did not answer. */
  reviews: Review[] | null;
}

interface Page {
  storefront: { pod: string; version: string };
  catalog: { pod: string } | { error: string };
  reviews: { version: string; pod: string; ratingsError?: string } | { error: string };
  products: Product[];
}

interface Deps {
  pod: string;
  version: string;
  catalog: Upstream;
  reviews: Upstream;
}

async function compose(deps: Deps, trace: TraceHeaders): Promise<Page> {
  const storefront = { pod: deps.pod, version: deps.version };
  const books = await deps.catalog.get('/books', bookListSchema, trace);
  if (!books.ok) return { storefront, catalog: { error: books.error }, reviews: { error: 'not asked' }, products: [] };
  const catalog = { pod: books.value.pod };
  if (books.value.books.length === 0) return { storefront, catalog, reviews: { error: 'not asked' }, products: [] };
  const ids = books.value.books.map((b) => b.id).join(',');
  const reviews = await deps.reviews.get(`/reviews?books=${encodeURIComponent(ids)}`, reviewsReplySchema, trace);
  if (!reviews.ok) {
    return {
      storefront,
      catalog,
      reviews: { error: reviews.error },
      products: books.value.books.map((b) => ({ ...b, reviews: null })),
    };
  }
  const { version, pod, ratingsError } = reviews.value;
  return {
    storefront,
    catalog,
    reviews: ratingsError === undefined ? { version, pod } : { version, pod, ratingsError },
    products: books.value.books.map((b) => ({ ...b, reviews: reviews.value.books[b.id] ?? [] })),
  };
}

function status(page: Page): number {
  return 'error' in page.catalog ? 503 : 200;
}

function reviewsVersion(page: Page): string {
  return 'version' in page.reviews ? page.reviews.version : 'unavailable';
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}.meta{color:#666;font-size:.9rem}.book{border-top:1px solid #ddd;padding:.6rem 0}
.book h2{margin:.2rem 0;font-size:1.2rem}.review{margin:.4rem 0 .4rem 1rem}.stars{letter-spacing:.1rem}
.notice{background:#fff4e5;border-left:4px solid #f0a000;padding:.4rem .8rem}`;

function stars(review: Review): string {
  if (review.rating === undefined) return '';
  const { stars: n, color } = review.rating;
  return ` <span class="stars stars-${color}" style="color:${color}" title="${n} of 5">${'★'.repeat(n)}${'☆'.repeat(5 - n)}</span>`;
}

function renderHtml(page: Page): string {
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bookstore</title>`);
  parts.push(`<style>${STYLE}</style></head><body><h1>Bookstore</h1>`);
  const served = [`storefront pod ${escapeHtml(page.storefront.pod)}`];
  if ('pod' in page.catalog) served.push(`catalog pod ${escapeHtml(page.catalog.pod)}`);
  if ('version' in page.reviews) {
    served.push(`reviews ${escapeHtml(page.reviews.version)} (pod ${escapeHtml(page.reviews.pod)})`);
  }
  parts.push(`<p class="meta" id="served-by">Served by ${served.join(' · ')}</p>`);
  if ('error' in page.catalog) {
    parts.push(`<p class="notice">The catalog is unavailable right now (${escapeHtml(page.catalog.error)}).</p>`);
  } else if ('error' in page.reviews) {
    parts.push(`<p class="notice">Reviews are unavailable right now (${escapeHtml(page.reviews.error)}).</p>`);
  } else if (page.reviews.ratingsError !== undefined) {
    parts.push(`<p class="notice">Ratings are unavailable right now (${escapeHtml(page.reviews.ratingsError)}).</p>`);
  }
  for (const p of page.products) {
    parts.push(`<div class="book" id="book-${escapeHtml(p.id)}"><h2>${escapeHtml(p.title)}</h2>`);
    parts.push(`<p class="meta">${escapeHtml(p.author)}, ${p.year}</p><p>${escapeHtml(p.summary)}</p>`);
    for (const r of p.reviews ?? []) {
      parts.push(
        `<p class="review"><strong>${escapeHtml(r.reviewer)}</strong>${stars(r)}<br>${escapeHtml(r.text)}</p>`,
      );
    }
    parts.push(`</div>`);
  }
  parts.push(`</body></html>\n`);
  return parts.join('');
}

function answer(res: ServerResponse, page: Page, html: boolean): void {
  res.setHeader('x-reviews-version', reviewsVersion(page));
  if (html) sendText(res, status(page), 'text/html; charset=utf-8', renderHtml(page));
  else sendJson(res, status(page), page);
}

main('storefront', (env) => {
  const deps: Deps = {
    pod: env.pod,
    version: process.env.VERSION || 'v1',
    catalog: new Upstream('catalog', dependencyUrl('catalog', env)),
    reviews: new Upstream('reviews', dependencyUrl('reviews', env)),
  };
  return {
    version: deps.version,
    handle: async (_req, res, { url, trace }) => {
      if (url.pathname !== '/' && url.pathname !== '/api/products') return false;
      answer(res, await compose(deps, trace), url.pathname === '/');
      return true;
    },
  };
});
