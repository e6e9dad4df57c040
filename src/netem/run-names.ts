import { randomBytes } from 'node:crypto';
import { NetemConfigError } from './errors.js';

/**
 * Names of one emulated-network run. Every namespace and device carries a per-run prefix that
 * embeds the owner's pid, so parallel runs never collide and `cleanupStale` can tell a crashed
 * run (pid gone) from a live one.
 */
export const NETEM_PREFIX = 'tn-';
const HOST_NAME = /^[a-z][a-z0-9]{0,11}$/;

export interface RunNames {
  /** e.g. `tn-1a2b-x9k3-` */
  prefix: string;
  /** `tn1a2bx9k3`: the same run id without dashes, for 15-character interface names. */
  compact: string;
}

export function newRunNames(pid = process.pid): RunNames {
  const pid36 = pid.toString(36);
  const rand = randomBytes(3).readUIntBE(0, 3).toString(36).padStart(4, '0').slice(-4);
  return { prefix: `${NETEM_PREFIX}${pid36}-${rand}-`, compact: `tn${pid36}${rand}` };
}

/** The pid a run prefix was made by, or null when `name` is not one of ours. */
export function ownerPid(name: string): number | null {
  const m = /^tn-([0-9a-z]+)-[0-9a-z]{4}-/.exec(name);
  if (!m || m[1] === undefined) return null;
  const pid = parseInt(m[1], 36);
  return Number.isSafeInteger(pid) ? pid : null;
}

export function checkHostName(name: string): void {
  if (!HOST_NAME.test(name)) {
    throw new NetemConfigError(`host name "${name}" must match ${HOST_NAME} (it becomes part of interface names)`);
  }
}

export function namespaceName(run: RunNames, host: string): string {
  return `${run.prefix}${host}`;
}

/** The router's namespace; `_` cannot appear in a host name, so it cannot clash with one. */
export function routerNamespace(run: RunNames): string {
  return `${run.prefix}_router`;
}

/** The TUN device of the delay forwarder; created in the root namespace for a moment. */
export function tunName(run: RunNames): string {
  return `${run.compact}d`.slice(0, 15);
}
