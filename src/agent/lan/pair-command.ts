import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { ConfigError } from '../../common/errors.js';
import { NameServerClient } from '../../names/client/name-server-client.js';
import { parseDid } from '../../proxy/auth/device-authenticator.js';
import type { AgentDaemon } from '../daemon/agent-daemon.js';
import { loadCredentials, saveCredentials } from '../state/credentials.js';
import { HomeDir } from '../state/home-dir.js';
import { LanPresence } from './lan-presence.js';
import { acceptIntroduction, dial, introduce, listenForIntroducer } from './pairing-flow.js';

/**
 * A paired device's record is for presence only: it offers no service on the LAN, and DNS-SD
 * needs some port in SRV, so it names the discard port (RFC 863).
 */
const PRESENCE_ONLY_PORT = 9;

interface CliHelpers {
  withHome: (cmd: Command) => Command;
  out: (json: boolean | undefined, value: unknown, text: string) => void;
  progress: (text: string) => void;
}

interface PairOptions {
  home?: string;
  json?: boolean;
  name?: string;
  yes?: boolean;
  timeout: number;
  interface?: string;
  listen: string;
}

/** Asks on the terminal; `--yes` answers for scripts and tests. The code is always shown. */
function confirmer(o: PairOptions): (sas: string) => Promise<boolean> {
  return async (sas) => {
    process.stderr.write(`pairing code: ${sas}\n`);
    if (o.yes) return true;
    if (!process.stdin.isTTY) throw new ConfigError('pairing needs a terminal to confirm the code (or --yes)');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await new Promise<string>((resolve) => rl.question('does the other device show the same code? [y/N] ', resolve));
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}

/**
 * `tsmp pair`: on a registered device, introduces a new device found on the LAN; with
 * `--name NAME` on a device without credentials, waits to be introduced and becomes NAME.
 */
export function registerPairCommand(program: Command, h: CliHelpers): void {
  h.withHome(program.command('pair [device]').description('pair a new device found on the LAN (6-digit code shown on both)'))
    .option('--name <name>', 'on the NEW device: the device name to take, e.g. laptop')
    .option('--yes', 'accept the code without asking (scripts; compare the printed codes yourself)')
    .option('--timeout <ms>', 'how long to wait for the other device', (v) => Number(v), 120_000)
    .option('--interface <address>', 'the local address to use for mDNS')
    .option('--listen <host>', 'on the new device: address of the pairing listener', '0.0.0.0')
    .action(async (device: string | undefined, o: PairOptions) => {
      const home = new HomeDir(o.home).ensure();
      if (o.name) return pairAsNewDevice(home, o, h);
      const credentials = loadCredentials(home);
      if (!credentials?.nameserver) throw new ConfigError('this device is not registered; on a new device run "tsmp pair --name NAME"');
      const uid = parseDid(credentials.did)!.uid;
      const lan = new LanPresence({ device: parseDid(credentials.did)!.device, state: 'paired', uid, port: PRESENCE_ONLY_PORT, ...(o.interface ? { interface: o.interface } : {}) });
      try {
        h.progress(`looking for ${device ?? 'a new device'} on the LAN…`);
        const peer = await lan.waitFor((p) => p.state === 'unpaired' && (!device || p.device === device), o.timeout);
        if (!peer?.addresses[0]) throw new ConfigError(`no new device${device ? ` named ${device}` : ''} found on the LAN`);
        h.progress(`found ${peer.device} at ${peer.addresses[0]}:${peer.port}`);
        const socket = await dial(peer.addresses[0], peer.port);
        const ns = new NameServerClient({ url: credentials.nameserver, auth: { did: credentials.did, token: credentials.token } });
        try {
          const result = await introduce(
            socket,
            async () => ({
              uid,
              code: (await ns.createPairing()).code,
              nameserver: credentials.nameserver!,
              ...(credentials.proxy ? { proxy: credentials.proxy } : {}),
              ...(credentials.proxyControl ? { proxyControl: credentials.proxyControl } : {}),
            }),
            { confirm: confirmer(o), stepTimeoutMs: o.timeout },
          );
          h.out(o.json, { paired: result.did, code: result.sas }, `paired ${result.did}`);
        } finally {
          ns.close();
        }
      } finally {
        await lan.stop();
      }
    });
}

async function pairAsNewDevice(home: HomeDir, o: PairOptions, h: CliHelpers): Promise<void> {
  if (loadCredentials(home)) throw new ConfigError(`${home.path} already holds credentials; use another --home for a new device`);
  let lan: LanPresence | undefined;
  try {
    const socket = await listenForIntroducer(
      o.listen,
      (port) => {
        lan = new LanPresence({ device: o.name!, state: 'unpaired', port, ...(o.interface ? { interface: o.interface } : {}) });
        h.progress(`waiting to be introduced as "${o.name}": run "tsmp pair ${o.name}" on one of your devices`);
      },
      o.timeout,
    );
    const result = await acceptIntroduction(
      socket,
      async (secret) => {
        const ns = new NameServerClient({ url: secret.nameserver });
        try {
          const { did, token } = await ns.claimPairing(secret.uid, secret.code, o.name!);
          saveCredentials(home, {
            did,
            token,
            nameserver: secret.nameserver,
            ...(secret.proxy ? { proxy: secret.proxy } : {}),
            ...(secret.proxyControl ? { proxyControl: secret.proxyControl } : {}),
          });
          return did;
        } finally {
          ns.close();
        }
      },
      { confirm: confirmer(o), stepTimeoutMs: o.timeout },
    );
    h.out(o.json, { did: result.did, code: result.sas, home: home.path }, `paired as ${result.did}; credentials saved in ${home.file('credentials.json')}`);
  } finally {
    await lan?.stop();
  }
}

/** `tsmp agent --lan`: advertise this device and watch for the user's others. */
export async function startLanPresence(daemon: AgentDaemon): Promise<{ stop(): Promise<void>; presence: LanPresence }> {
  const parsed = parseDid(daemon.did)!;
  const presence = new LanPresence({ device: parsed.device, state: 'paired', uid: parsed.uid, port: PRESENCE_ONLY_PORT });
  presence.onChange = () => daemon.state.setLan(presence.ownDevices().map((p) => ({ device: p.device, addresses: p.addresses })));
  return { presence, stop: () => presence.stop() };
}
