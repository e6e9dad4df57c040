import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomeDir } from '../../src/agent/state/home-dir.js';
import { loadCredentials, resolveCredentials, saveCredentials } from '../../src/agent/state/credentials.js';
import { loadConfig } from '../../src/agent/state/config-file.js';
import { MigrationAwareApps } from '../../src/agent/app-api.js';
import { chooseHandlerSpec, createHandler } from '../../src/agent/handlers/handler-choice.js';
import { parseHandlerSpec, formatHandlerSpec } from '../../src/agent/handlers/handler-spec.js';
import { AddressWatcher, pickCareOfAddress } from '../../src/agent/daemon/address-watcher.js';
import type { ResumedStream } from '../../src/agent/handlers/handler-types.js';
import { PassThrough } from 'node:stream';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsmp-home-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('state directory', () => {
  it('keeps credentials in a 0600 file inside a 0700 directory, and refuses a file others can read', () => {
    const home = new HomeDir(join(dir, 'h')).ensure();
    expect(statSync(home.path).mode & 0o777).toBe(0o700);
    saveCredentials(home, { did: 'phone.bob@example.org', token: 't' });
    expect(statSync(home.file('credentials.json')).mode & 0o777).toBe(0o600);
    expect(loadCredentials(home)).toEqual({ did: 'phone.bob@example.org', token: 't' });
    chmodSync(home.file('credentials.json'), 0o644);
    expect(() => loadCredentials(home)).toThrow(expect.objectContaining({ code: 'ERR_STATE_PERMISSIONS' }));
  });

  it('merges command-line credentials over the file and saves them; a missing token is one clear error', () => {
    const home = new HomeDir(join(dir, 'h')).ensure();
    expect(() => resolveCredentials(home, {})).toThrow(expect.objectContaining({ code: 'ERR_NO_CREDENTIALS' }));
    resolveCredentials(home, { did: 'pc.bob@example.org', token: 'x', proxy: '127.0.0.1:1080' });
    expect(resolveCredentials(home, { token: 'y' })).toEqual({ did: 'pc.bob@example.org', token: 'y', proxy: '127.0.0.1:1080' });
    expect(loadCredentials(home)?.token).toBe('y');
    expect(() => resolveCredentials(home, { did: 'not-a-did' })).toThrow(expect.objectContaining({ code: 'ERR_STATE_FILE' }));
  });

  it('reads config.json strictly, naming the bad field', () => {
    const home = new HomeDir(join(dir, 'h')).ensure();
    expect(loadConfig(home).handlers).toEqual({});
    writeFileSync(home.file('config.json'), JSON.stringify({ handlers: { '*': 'file:/tmp/x' }, typo: 1 }));
    expect(() => loadConfig(home)).toThrow(expect.objectContaining({ code: 'ERR_STATE_FILE' }));
  });
});

describe('handler specs and choice', () => {
  it('parses and formats every kind, and rejects unknown ones', () => {
    for (const s of ['file:/tmp/a b', 'exec:mpv -', 'port:127.0.0.1:9000', 'app', 'app:chat', 'aware', 'aware:downloader']) {
      expect(formatHandlerSpec(parseHandlerSpec(s))).toBe(s);
    }
    expect(parseHandlerSpec('port::9000')).toEqual({ kind: 'port', host: '127.0.0.1', port: 9000 });
    for (const bad of ['ftp:x', 'file:', 'exec: ', 'port:nohost']) expect(() => parseHandlerSpec(bad)).toThrow(expect.objectContaining({ code: 'ERR_HANDLER_SPEC' }));
  });

  it('picks the override, then host:port, then host, then the exporting app, then *, then received/', () => {
    const apps = new MigrationAwareApps();
    apps.register({ name: 'dl', importState: () => undefined });
    const r = (extra: Partial<ResumedStream> = {}): ResumedStream => ({ stream: new PassThrough(), migration: 'm/1', connection: 'c1', destination: 'v.example:80', ...extra });
    const deps = (handlers: Record<string, string>) => ({ config: { handlers, apps: {}, limits: {} }, apps, receivedDir: '/home/r' });
    const all = { 'v.example:80': 'exec:a', 'v.example': 'exec:b', '*': 'exec:c' };
    expect(chooseHandlerSpec(r(), 'file:/o', deps(all))).toBe('file:/o');
    expect(chooseHandlerSpec(r(), undefined, deps(all))).toBe('exec:a');
    expect(chooseHandlerSpec(r({ destination: 'v.example:81' }), undefined, deps(all))).toBe('exec:b');
    expect(chooseHandlerSpec(r({ destination: 'w.example:81', app: 'dl' }), undefined, deps(all))).toBe('aware:dl');
    expect(chooseHandlerSpec(r({ destination: 'w.example:81', app: 'unknown' }), undefined, deps(all))).toBe('exec:c');
    const fallback = chooseHandlerSpec(r({ destination: 'w.example:81' }), undefined, deps({}));
    expect(fallback).toBe('file:/home/r/{connection}.bin');
    expect(createHandler('file:/d/{host}-{port}-{migration}.part', r(), deps({})).spec).toBe('file:/d/v.example-80-m_1.part');
    expect(() => createHandler('app:none', r(), deps({}))).toThrow(expect.objectContaining({ code: 'ERR_HANDLER_SPEC' }));
  });
});

describe('care-of address', () => {
  const v4 = (address: string, internal = false) => ({ address, family: 'IPv4' as const, internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null });
  it('prefers a global IPv4 address and skips loopback and link-local', () => {
    expect(pickCareOfAddress({ lo: [v4('127.0.0.1', true)], eth0: [v4('169.254.1.1'), v4('198.18.0.2')] })).toBe('198.18.0.2');
    expect(pickCareOfAddress({ lo: [v4('127.0.0.1', true)] })).toBeNull();
  });

  it('reports a change of address at the next read', () => {
    let current = { eth0: [v4('198.18.0.2')] };
    const w = new AddressWatcher({ read: () => current });
    const seen: Array<[string | null, string | null]> = [];
    w.on('change', (coa, prev) => seen.push([coa, prev]));
    w.check();
    current = { eth0: [v4('198.18.1.7')] };
    w.check();
    expect(seen).toEqual([['198.18.1.7', '198.18.0.2']]);
    expect(w.coa).toBe('198.18.1.7');
  });
});
