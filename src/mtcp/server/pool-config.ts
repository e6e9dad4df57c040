import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../../common/errors.js';
import { parseHostPort } from '../../common/host-port.js';

/**
 * The pool file (issue 5): `{"key": "<shared secret>", "members": [{"id": "s1", "address":
 * "127.0.0.1:7101"}, ...], "store": "memory"}`. `store` is `"memory"` (lazy transfer),
 * `"push"` (eager push to the other members) or a `redis://` URL (eager, through Redis).
 * Extra fields are allowed and ignored.
 */
export const poolConfigSchema = z.looseObject({
  key: z.string().min(16, 'the pool key must be at least 16 characters'),
  members: z
    .array(z.looseObject({ id: z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/, 'member ids are [A-Za-z0-9._-]'), address: z.string().min(3) }))
    .min(1),
  store: z
    .string()
    .refine((s) => s === 'memory' || s === 'push' || /^rediss?:\/\//.test(s), 'store is "memory", "push" or a redis:// URL')
    .default('memory'),
});
export type PoolConfig = z.infer<typeof poolConfigSchema>;
export type PoolMember = PoolConfig['members'][number];

export function parsePoolConfig(json: unknown): PoolConfig {
  const parsed = poolConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`pool file: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  const seen = new Set<string>();
  for (const m of parsed.data.members) {
    if (seen.has(m.id)) throw new ConfigError(`pool file: member id "${m.id}" appears twice`);
    seen.add(m.id);
    parseHostPort(m.address);
  }
  return parsed.data;
}

export async function loadPoolConfig(path: string): Promise<PoolConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read pool file ${path}`, { cause: err });
  }
  try {
    return parsePoolConfig(JSON.parse(text));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`pool file ${path} is not JSON`, { cause: err });
  }
}

export function findMember(pool: PoolConfig, id: string): PoolMember {
  const m = pool.members.find((x) => x.id === id);
  if (!m) throw new ConfigError(`member "${id}" is not in the pool (members: ${pool.members.map((x) => x.id).join(', ')})`);
  return m;
}
