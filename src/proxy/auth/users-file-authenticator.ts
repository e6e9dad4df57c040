import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { TsmpError } from '../../common/errors.js';
import { makeDid, parseDid, type DeviceAuthenticator, type DeviceIdentity } from './device-authenticator.js';

/**
 * `--users FILE`: the credentials of a standalone proxy, as JSON
 * `{"bob@example.org": {"phone": "<token>", "pc": "<token>"}}`.
 *
 * UIDs and device names are kept lower-case, the rule the name server applies, so that
 * `Phone.Bob@Example.org` and `phone.bob@example.org` are one device. Only SHA-256 digests of
 * the tokens are kept in memory, and they are compared in constant time.
 */

const uidSchema = z
  .string()
  .max(254)
  .regex(/^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'expected an e-mail address in lower case');

/** One DNS-like label: the DID `<name>.<uid>` splits at its first dot, so a name has none. */
const deviceNameSchema = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'expected a device name: a-z, 0-9 and inner dashes');

const tokenSchema = z.string().min(1, 'a token cannot be empty').max(1024);

/** Keys are checked one by one so that the message names the bad key (a record key schema would not). */
export const usersFileSchema = z.record(z.string(), z.record(z.string(), tokenSchema)).superRefine((users, ctx) => {
  const check = (schema: z.ZodString, key: string, path: string[], what: string): void => {
    const result = schema.safeParse(key);
    if (!result.success) {
      ctx.addIssue({ code: 'custom', path, message: `${what} ${JSON.stringify(key)}: ${result.error.issues[0]?.message}` });
    }
  };
  for (const [uid, devices] of Object.entries(users)) {
    check(uidSchema, uid, [uid], 'user id');
    for (const name of Object.keys(devices)) check(deviceNameSchema, name, [uid, name], 'device name');
  }
});
export type UsersFile = z.infer<typeof usersFileSchema>;

/** The users file is missing, not JSON, or not of the expected shape. */
export class UsersFileError extends TsmpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_USERS_FILE', message, options);
  }
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Compared against when the DID is unknown, so that the time taken does not tell. */
const UNKNOWN_DEVICE_DIGEST = digest('tsmp: no such device');

export class UsersFileAuthenticator implements DeviceAuthenticator {
  /** uid → device name → token digest. */
  private users = new Map<string, Map<string, Buffer>>();

  private constructor(private readonly path: string | null) {}

  /** Reads and validates `path`; throws `UsersFileError` with every problem found. */
  static async fromFile(path: string): Promise<UsersFileAuthenticator> {
    const authenticator = new UsersFileAuthenticator(path);
    await authenticator.reload();
    return authenticator;
  }

  /** From a value already parsed (tests, or a config embedded elsewhere). */
  static fromJson(value: unknown, source = 'users'): UsersFileAuthenticator {
    const authenticator = new UsersFileAuthenticator(null);
    authenticator.users = compile(value, source);
    return authenticator;
  }

  /** Re-reads the file (e.g. on SIGHUP). On error the previous users stay in force. */
  async reload(): Promise<void> {
    if (this.path === null) return;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw new UsersFileError(`cannot read users file ${this.path}`, { cause: err });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new UsersFileError(`users file ${this.path} is not JSON`, { cause: err });
    }
    this.users = compile(value, this.path);
  }

  async authenticate(did: string, token: string): Promise<DeviceIdentity | null> {
    const parts = parseDid(did.toLowerCase());
    const expected = parts ? this.users.get(parts.uid)?.get(parts.device) : undefined;
    const matches = timingSafeEqual(digest(token), expected ?? UNKNOWN_DEVICE_DIGEST);
    if (!parts || !expected || !matches) return null;
    return identity(parts.device, parts.uid);
  }

  async resolveDevice(uid: string, nameOrDid: string): Promise<DeviceIdentity | null> {
    const owner = uid.toLowerCase();
    const devices = this.users.get(owner);
    if (!devices) return null;
    let name = nameOrDid.toLowerCase();
    if (name.includes('.')) {
      const parts = parseDid(name);
      // A DID of another user names a device this user does not own.
      if (!parts || parts.uid !== owner) return null;
      name = parts.device;
    }
    return devices.has(name) ? identity(name, owner) : null;
  }

  /** The device names of a user, for listings. */
  devicesOf(uid: string): string[] {
    return [...(this.users.get(uid.toLowerCase())?.keys() ?? [])];
  }
}

function identity(device: string, uid: string): DeviceIdentity {
  return { uid, device, did: makeDid(device, uid) };
}

function compile(value: unknown, source: string): Map<string, Map<string, Buffer>> {
  const parsed = usersFileSchema.safeParse(value);
  if (!parsed.success) {
    throw new UsersFileError(`invalid users file ${source}:\n${z.prettifyError(parsed.error)}`);
  }
  const users = new Map<string, Map<string, Buffer>>();
  for (const [uid, devices] of Object.entries(parsed.data)) {
    users.set(uid, new Map(Object.entries(devices).map(([name, token]) => [name, digest(token)])));
  }
  return users;
}
