import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsersFileAuthenticator, UsersFileError } from '../../src/proxy/auth/users-file-authenticator.js';

const USERS = {
  'bob@example.org': { phone: 'bob-phone-token', pc: 'bob-pc-token' },
  'alice@example.org': { pc: 'alice-pc-token' },
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsmp-users-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(content: string): Promise<string> {
  const path = join(dir, `users-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, content);
  return path;
}

describe('UsersFileAuthenticator', () => {
  it('authenticates a DID with its own token only', async () => {
    const auth = await UsersFileAuthenticator.fromFile(await fileWith(JSON.stringify(USERS)));
    expect(await auth.authenticate('phone.bob@example.org', 'bob-phone-token')).toEqual({
      uid: 'bob@example.org',
      device: 'phone',
      did: 'phone.bob@example.org',
    });
    expect(await auth.authenticate('Phone.Bob@Example.org', 'bob-phone-token')).toMatchObject({ did: 'phone.bob@example.org' });
    expect(await auth.authenticate('phone.bob@example.org', 'bob-pc-token')).toBeNull();
    expect(await auth.authenticate('phone.bob@example.org', 'bob-phone-token ')).toBeNull();
    expect(await auth.authenticate('phone.bob@example.org', '')).toBeNull();
    expect(await auth.authenticate('pc.alice@example.org', 'bob-pc-token')).toBeNull();
    expect(await auth.authenticate('tablet.bob@example.org', 'bob-phone-token')).toBeNull();
    expect(await auth.authenticate('bob@example.org', 'bob-phone-token')).toBeNull();
    expect(await auth.authenticate('', '')).toBeNull();
  });

  it('resolves a device by name or DID, never another user\'s', async () => {
    const auth = UsersFileAuthenticator.fromJson(USERS);
    expect(await auth.resolveDevice('bob@example.org', 'pc')).toEqual({ uid: 'bob@example.org', device: 'pc', did: 'pc.bob@example.org' });
    expect(await auth.resolveDevice('bob@example.org', 'pc.bob@example.org')).toMatchObject({ did: 'pc.bob@example.org' });
    expect(await auth.resolveDevice('bob@example.org', 'PC.BOB@example.org')).toMatchObject({ did: 'pc.bob@example.org' });
    expect(await auth.resolveDevice('bob@example.org', 'pc.alice@example.org')).toBeNull();
    expect(await auth.resolveDevice('alice@example.org', 'phone')).toBeNull();
    expect(await auth.resolveDevice('alice@example.org', 'phone.bob@example.org')).toBeNull();
    expect(await auth.resolveDevice('eve@example.org', 'pc')).toBeNull();
    expect(await auth.resolveDevice('bob@example.org', 'tablet')).toBeNull();
    expect(auth.devicesOf('bob@example.org').sort()).toEqual(['pc', 'phone']);
  });

  it('rejects malformed files with UsersFileError naming the problem', async () => {
    const bad: [string, RegExp][] = [
      ['not json', /not JSON/],
      ['[]', /invalid users file/],
      [JSON.stringify({ 'not-an-email': { pc: 't' } }), /e-mail/],
      [JSON.stringify({ 'Bob@example.org': { pc: 't' } }), /lower case/],
      [JSON.stringify({ 'bob@example.org': { 'my.pc': 't' } }), /device name/],
      [JSON.stringify({ 'bob@example.org': { pc: '' } }), /empty/],
      [JSON.stringify({ 'bob@example.org': { pc: 42 } }), /invalid users file/],
    ];
    for (const [content, message] of bad) {
      const error = await UsersFileAuthenticator.fromFile(await fileWith(content)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsersFileError);
      expect((error as UsersFileError).code).toBe('ERR_USERS_FILE');
      expect((error as Error).message).toMatch(message);
    }
    await expect(UsersFileAuthenticator.fromFile(join(dir, 'missing.json'))).rejects.toThrow(/cannot read/);
  });

  it('reloads, and keeps the old users when the new file is bad', async () => {
    const path = await fileWith(JSON.stringify(USERS));
    const auth = await UsersFileAuthenticator.fromFile(path);
    await writeFile(path, JSON.stringify({ 'bob@example.org': { phone: 'rotated' } }));
    await auth.reload();
    expect(await auth.authenticate('phone.bob@example.org', 'bob-phone-token')).toBeNull();
    expect(await auth.authenticate('phone.bob@example.org', 'rotated')).not.toBeNull();
    await writeFile(path, '{');
    await expect(auth.reload()).rejects.toThrow(UsersFileError);
    expect(await auth.authenticate('phone.bob@example.org', 'rotated')).not.toBeNull();
  });
});
