/**
 * The JSON the bookstore's services exchange, as zod schemas: each caller checks what it receives, so a service
 * answering something else is reported as such instead of breaking the page.
 */
import { z } from 'zod';

export const bookSchema = z.object({
  id: z.string(),
  title: z.string(),
  author: z.string(),
  year: z.number().int(),
  summary: z.string(),
});
export type Book = z.infer<typeof bookSchema>;

/** catalog `GET /books`. */
export const bookListSchema = z.object({ pod: z.string(), books: z.array(bookSchema) });

export const starColors = ['black', 'red'] as const;
export type StarColor = (typeof starColors)[number];

export const reviewSchema = z.object({
  reviewer: z.string(),
  text: z.string(),
  /** Absent from reviews v1, and when ratings did not answer. */
  rating: z.object({ stars: z.number().int().min(0).max(5), color: z.enum(starColors) }).optional(),
});
export type Review = z.infer<typeof reviewSchema>;

/** reviews `GET /reviews?books=a,b`: the reviews of each book asked for ([] for a book without reviews). */
export const reviewsReplySchema = z.object({
  version: z.string(),
  pod: z.string(),
  books: z.record(z.string(), z.array(reviewSchema)),
  /** Set by v2 and v3 when ratings did not answer: the reviews come without stars. */
  ratingsError: z.string().optional(),
});
export type ReviewsReply = z.infer<typeof reviewsReplySchema>;

/** ratings `GET /ratings?books=a,b`: stars (1-5) per book, per reviewer. */
export const ratingsReplySchema = z.object({
  pod: z.string(),
  ratings: z.record(z.string(), z.record(z.string(), z.number().int().min(1).max(5))),
});
export type RatingsReply = z.infer<typeof ratingsReplySchema>;
