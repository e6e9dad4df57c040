/**
 * Name-server commands (issue 3): `nameserver`, `user add`, `device add`, `resolve`, `devices`.
 *
 * Extension point for the agent's commands (src/cli/commands/agent.ts, registered after this
 * file): `parentCommand(program, 'device')` returns the `device` command to add `device register`
 * to, and `setDevicesWithoutUser(handler)` makes `tsmp devices` without `--user` call the agent's
 * listing instead of failing.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '../../common/errors.js';
import { parseHostPort } from '../../common/host-port.js';
import { NameServer } from '../../names/name-server.js';
import { clientFromCli, readPassword, type ClientCliOptions } from '../../names/client/cli-support.js';
import type { ClientAuth } from '../../names/client/name-server-client.js';
import { DEFAULT_RATE_LIMITS } from '../../names/api/build-app.js';

type DevicesHandler = (opts: Record<string, unknown>) => Promise<void>;
let devicesWithoutUser: DevicesHandler | null = null;

/** Lets another part answer `tsmp devices` when `--user` is not given. */
export function setDevicesWithoutUser(handler: DevicesHandler): void {
  devicesWithoutUser = handler;
}

/** The existing parent command (`user`, `device`), created if missing, for others to extend. */
export function parentCommand(program: Command, name: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name);
}

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`expected a positive integer, got "${v}"`);
  return n;
};

function clientOptions(cmd: Command): Command {
  return cmd.option('--nameserver <url>', 'name server URL (or $TSMP_NAMESERVER)').option('--ca <file>', 'CA certificate (PEM) to trust').option('--json', 'print JSON');
}

function print(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

export function registerNameCommands(program: Command): void {
  program
    .command('nameserver')
    .description('run the name server (SMPS)')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:7000')
    .option('--db <path|url>', 'SQLite file or postgres:// URL', './tsmp-names.db')
    .option('--db-schema <name>', 'PostgreSQL schema', 'public')
    .option('--tls-cert <file>', 'certificate (PEM) for HTTPS/WSS')
    .option('--tls-key <file>', 'private key (PEM) for HTTPS/WSS')
    .option('--service-key <key>', 'secret shared with proxies (or $TSMP_SERVICE_KEY)')
    .option('--heartbeat-interval <ms>', 'heartbeat interval', int, 15_000)
    .option('--missed-heartbeats <n>', 'offline after this many missed heartbeats', int, 3)
    .option('--rate-limit <n>', 'password/pairing requests per minute per address', int, DEFAULT_RATE_LIMITS.password.max)
    .action(async (o) => {
      const { host, port } = parseHostPort(o.listen);
      if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new ConfigError('--tls-cert and --tls-key go together');
      const server = await NameServer.start({
        db: o.db,
        schema: o.dbSchema,
        host,
        port,
        tls: o.tlsCert ? { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) } : undefined,
        settings: {
          serviceKey: o.serviceKey ?? process.env.TSMP_SERVICE_KEY ?? null,
          heartbeatIntervalMs: o.heartbeatInterval,
          missedHeartbeats: o.missedHeartbeats,
        },
        rateLimits: { ...DEFAULT_RATE_LIMITS, password: { max: o.rateLimit, timeWindow: 60_000 } },
      });
      process.stdout.write(`tsmp nameserver listening on ${server.url}\n`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  clientOptions(parentCommand(program, 'user').command('add <uid>').description('register a user (password from $TSMP_PASSWORD or a prompt)')).action(
    async (uid: string, o: ClientCliOptions & { json?: boolean }) => {
      const password = await readPassword(`password for ${uid}: `);
      const ns = clientFromCli(o);
      try {
        const r = await ns.registerUser(uid, password);
        print(o.json, r, `user ${r.uid} registered`);
      } finally {
        ns.close();
      }
    },
  );

  clientOptions(parentCommand(program, 'device').command('add <name>').description("add a device; prints its DID and token once"))
    .requiredOption('--user <uid>', 'the user the device belongs to')
    .action(async (name: string, o: ClientCliOptions & { user: string; json?: boolean }) => {
      const ns = clientFromCli(o, { uid: o.user, password: await readPassword(`password for ${o.user}: `) });
      try {
        const r = await ns.addDevice(o.user, name);
        print(o.json, r, `${r.did}\ntoken: ${r.token}`);
      } finally {
        ns.close();
      }
    });

  clientOptions(program.command('resolve <did>').description('resolve a DID: status, care-of address, last heartbeat'))
    .option('--as <did>', 'authenticate as this device with $TSMP_TOKEN')
    .action(async (did: string, o: ClientCliOptions & { as?: string; json?: boolean }) => {
      let auth: ClientAuth;
      if (process.env.TSMP_SERVICE_KEY) auth = { serviceKey: process.env.TSMP_SERVICE_KEY };
      else if (o.as) auth = { did: o.as, token: process.env.TSMP_TOKEN ?? '' };
      else {
        const uid = did.slice(did.indexOf('.') + 1);
        auth = { uid, password: await readPassword(`password for ${uid}: `) };
      }
      const ns = clientFromCli(o, auth);
      try {
        const r = await ns.resolve(did);
        print(o.json, r, `${r.did}\t${r.status}\t${r.coa ?? '-'}\t${r.lastSeen ?? 'never'}`);
      } finally {
        ns.close();
      }
    });

  clientOptions(program.command('devices').description("list a user's devices and their presence"))
    .option('--user <uid>', 'the user whose devices to list')
    .action(async (o: ClientCliOptions & { user?: string; json?: boolean }) => {
      if (!o.user) {
        if (devicesWithoutUser) return devicesWithoutUser(o as Record<string, unknown>);
        throw new ConfigError('give --user UID');
      }
      const ns = clientFromCli(o, { uid: o.user, password: await readPassword(`password for ${o.user}: `) });
      try {
        const list = await ns.listDevices(o.user);
        const text = list.map((d) => `${d.did}\t${d.status}\t${d.coa ?? '-'}\t${d.lastSeen ?? 'never'}`).join('\n') || '(no devices)';
        print(o.json, list, text);
      } finally {
        ns.close();
      }
    });
}
