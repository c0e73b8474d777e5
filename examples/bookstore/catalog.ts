/**
 * catalog: the books the store sells. `GET /books` lists them, `GET /books/<id>` answers one (404 for an unknown
 * id). Every answer names the pod that gave it.
 */
import { main, sendJson } from './lib/app.js';
import type { Book } from './lib/model.js';

const BOOKS: readonly Book[] = [
  {
    id: 'time-machine',
    title: 'The Time Machine',
    author: 'H. G. Wells',
    year: 1895,
    summary: 'A Victorian inventor travels to the year 802,701 and finds what became of his own century.',
  },
  {
    id: 'frankenstein',
    title: 'Frankenstein; or, The Modern Prometheus',
    author: 'Mary Shelley',
    year: 1818,
    summary: 'A student gives life to a creature, then abandons it, and both pay for what follows.',
  },
  {
    id: 'moby-dick',
    title: 'Moby-Dick; or, The Whale',
    author: 'Herman Melville',
    year: 1851,
    summary: 'Ishmael signs on to the Pequod, whose captain hunts one white whale across every ocean.',
  },
  {
    id: 'middlemarch',
    title: 'Middlemarch',
    author: 'George Eliot',
    year: 1871,
    summary: 'A provincial town & its people, the marriages they choose and the reforms they attempt.',
  },
];

const byId = new Map(BOOKS.map((b) => [b.id, b]));

main('catalog', (env) => ({
  version: 'v1',
  handle: (_req, res, { url }) => {
    if (url.pathname === '/books') {
      sendJson(res, 200, { pod: env.pod, books: BOOKS });
      return true;
    }
    const m = /^\/books\/([a-z0-9-]+)$/.exec(url.pathname);
    if (m === null) return false;
    const book = byId.get(m[1]!);
    if (book === undefined) sendJson(res, 404, { pod: env.pod, error: `no book with id "${m[1]}"` });
    else sendJson(res, 200, { pod: env.pod, book });
    return true;
  },
}));
