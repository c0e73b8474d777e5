/**
 * reviews: what readers wrote about each book. Three versions run side by side (Deployments reviews-v1, -v2, -v3,
 * told apart by the `version` label and the VERSION variable):
 * - v1 answers the reviews alone;
 * - v2 asks ratings for each reviewer's stars and shows them black;
 * - v3 does the same and shows them red.
 * `GET /reviews?books=a,b` answers `{ version, pod, books: { <book>: [{ reviewer, text, rating? }] } }`; when ratings
 * does not answer, v2 and v3 still answer, without stars, and say why in `ratingsError`.
 */
import { bookIds, ConfigError, dependencyUrl, main, sendJson, Upstream } from './lib/app.js';
import { ratingsReplySchema, type Review, type StarColor } from './lib/model.js';

const REVIEWS: Readonly<Record<string, readonly { reviewer: string; text: string }[]>> = {
  'time-machine': [
    { reviewer: 'Ada', text: 'The Eloi and the Morlocks stay with you long after the last page.' },
    { reviewer: 'Jonah', text: 'Short, strange, and still ahead of its time.' },
  ],
  frankenstein: [
    { reviewer: 'Priya', text: "The creature's own account is the heart of the book." },
    { reviewer: 'Tom', text: 'Gothic & philosophical: read it for the creature, not the <movie>.' },
  ],
  'moby-dick': [
    { reviewer: 'Marta', text: 'The chapters about whales are a voyage of their own.' },
    { reviewer: 'Lee', text: 'Call it long; I call it generous.' },
  ],
  middlemarch: [
    { reviewer: 'Ruth', text: 'Every character gets the same patient attention.' },
    { reviewer: 'Sam', text: 'A slow start, then impossible to put down.' },
  ],
};

const STARS: Readonly<Record<string, StarColor | undefined>> = { v1: undefined, v2: 'black', v3: 'red' };

function versionFrom(env: NodeJS.ProcessEnv): string {
  const version = env.VERSION;
  if (version === undefined || !(version in STARS)) {
    throw new ConfigError(`VERSION: must be v1, v2 or v3 (got ${version === undefined ? 'nothing' : `"${version}"`})`);
  }
  return version;
}

main('reviews', (env) => {
  const version = versionFrom(process.env);
  const color = STARS[version];
  const ratings = color === undefined ? undefined : new Upstream('ratings', dependencyUrl('ratings', env));
  return {
    version,
    handle: async (_req, res, { url, trace }) => {
      if (url.pathname !== '/reviews') return false;
      const ids = bookIds(url);
      if (!ids.ok) {
        sendJson(res, 400, { version, pod: env.pod, error: ids.error });
        return true;
      }
      const stars = ratings && (await ratings.get(`/ratings?books=${ids.ids.join(',')}`, ratingsReplySchema, trace));
      const books: Record<string, Review[]> = {};
      for (const id of ids.ids) {
        const given = stars?.ok === true ? stars.value.ratings[id] : undefined;
        books[id] = (REVIEWS[id] ?? []).map((r) => {
          const n = given?.[r.reviewer];
          return n !== undefined && color !== undefined ? { ...r, rating: { stars: n, color } } : { ...r };
        });
      }
      sendJson(res, 200, {
        version,
        pod: env.pod,
        books,
        ...(stars?.ok === false ? { ratingsError: stars.error } : {}),
      });
      return true;
    },
  };
});
