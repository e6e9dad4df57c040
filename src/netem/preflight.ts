import { closeSync } from 'node:fs';
import { runCommand } from './run-command.js';
import { openTun } from './tun-device.js';

export interface Preflight {
  ok: boolean;
  /** Why the emulated network cannot run here; empty when `ok`. */
  reason: string;
}

/**
 * Checks, without leaving anything behind, that this process can build an emulated network:
 * root, `ip netns add`, and a TUN device. Tests use it to skip with one clear line.
 */
export async function netemPreflight(): Promise<Preflight> {
  if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not root' };
  const probe = `tn-preflight-${process.pid}`;
  const add = await runCommand('ip', ['netns', 'add', probe], { allowFailure: true }).catch(() => null);
  if (!add || add.code !== 0) return { ok: false, reason: `ip netns not permitted (${add?.stderr.trim() || 'no ip command'})` };
  await runCommand('ip', ['netns', 'delete', probe], { allowFailure: true });
  const tc = await runCommand('tc', ['-V'], { allowFailure: true }).catch(() => null);
  if (!tc || tc.code !== 0) return { ok: false, reason: 'tc (iproute2) not installed' };
  try {
    closeSync(openTun(`tnpf${process.pid.toString(36)}`.slice(0, 15)));
  } catch (err) {
    return { ok: false, reason: `no TUN device: ${(err as Error).message}` };
  }
  return { ok: true, reason: '' };
}
