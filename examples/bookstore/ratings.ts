/**
 * ratings: how many stars (1-5) each reviewer gave each book. `GET /ratings?books=a,b` answers
 * `{ pod, ratings: { <book>: { <reviewer>: stars } } }` ({} for a book nobody rated).
 */
import { bookIds, main, sendJson } from './lib/app.js';

const RATINGS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'time-machine': { Ada: 5, Jonah: 4 },
  frankenstein: { Priya: 5, Tom: 3 },
  'moby-dick': { Marta: 4, Lee: 2 },
  middlemarch: { Ruth: 5, Sam: 4 },
};

main('ratings', (env) => ({
  version: process.env.VERSION || 'v1',
  handle: (_req, res, { url }) => {
    if (url.pathname !== '/ratings') return false;
    const ids = bookIds(url);
    if (!ids.ok) {
      sendJson(res, 400, { pod: env.pod, error: ids.error });
      return true;
    }
    const ratings: Record<string, Readonly<Record<string, number>>> = {};
    for (const id of ids.ids) ratings[id] = RATINGS[id] ?? {};
    sendJson(res, 200, { pod: env.pod, ratings });
    return true;
  },
}));
