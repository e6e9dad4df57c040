import type { z } from 'zod';
import { BadRequestError } from '../errors.js';

/** Validates a body or params against its schema; the first problem becomes a 400. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length ? `${issue.path.join('.')}: ` : '';
  throw new BadRequestError(`${where}${issue?.message ?? 'invalid request'}`, { cause: r.error });
}
