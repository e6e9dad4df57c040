import { z } from 'zod';
import { parseDid } from '../../proxy/auth/device-authenticator.js';
import { AgentStateError } from '../errors.js';
import type { HomeDir } from './home-dir.js';

export const CREDENTIALS_FILE = 'credentials.json';

/** What a registered device keeps (0600): its DID and token, and where its services are. */
export const credentialsSchema = z
  .object({
    did: z.string().refine((d) => parseDid(d) !== null, 'a DID is <device>.<uid>, e.g. phone.bob@example.org'),
    token: z.string().min(1).max(1024),
    nameserver: z.string().url().optional(),
    /** The proxy's SOCKS5 front, `host:port`. */
    proxy: z.string().optional(),
    /** The proxy's control API, `host:port`; defaults to the front's port + 1. */
    proxyControl: z.string().optional(),
  })
  .strict();

export type Credentials = z.infer<typeof credentialsSchema>;

export function loadCredentials(home: HomeDir): Credentials | undefined {
  return home.readJson(CREDENTIALS_FILE, credentialsSchema, { secret: true });
}

export function saveCredentials(home: HomeDir, credentials: Credentials): void {
  home.writeJson(CREDENTIALS_FILE, credentialsSchema.parse(credentials), { secret: true });
}

/**
 * The credentials to run with: command-line values win over the file, and the result is saved
 * back when it differs, so `tsmp agent --device ... --token ...` once is enough.
 */
export function resolveCredentials(home: HomeDir, overrides: Partial<Credentials>): Credentials {
  const stored = loadCredentials(home);
  const merged = { ...stored, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  if (!merged.did || !merged.token) {
    throw new AgentStateError(
      'ERR_NO_CREDENTIALS',
      `no device credentials in ${home.file(CREDENTIALS_FILE)}; run "tsmp device register NAME" or pass --device DID --token TOKEN`,
    );
  }
  const parsed = credentialsSchema.safeParse(merged);
  if (!parsed.success) throw new AgentStateError('ERR_STATE_FILE', `bad credentials: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  if (JSON.stringify(stored) !== JSON.stringify(parsed.data)) saveCredentials(home, parsed.data);
  return parsed.data;
}
