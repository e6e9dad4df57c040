/**
 * The agent's commands (issue 4): `agent`, `device register`, `devices` (without --user), `ls`,
 * `migrate`, `pair`, `status`. Every one takes `--home` and `--json`; progress goes to stderr and
 * only when it is a terminal; errors are one line with a non-zero exit (src/cli/main.ts).
 */
import type { Command } from 'commander';
import { ConfigError } from '../../common/errors.js';
import { parentCommand, setDevicesWithoutUser } from './names.js';
import { readPassword } from '../../names/client/cli-support.js';
import { NameServerClient } from '../../names/client/name-server-client.js';
import { parseDid } from '../../proxy/auth/device-authenticator.js';
import { commandContext, controlClient, type HomeCliOptions } from '../../agent/cli/cli-context.js';
import { connectionsTable, migrationSummary, migrationsTable, table } from '../../agent/cli/format.js';
import { startAgent, type RunAgentOptions } from '../../agent/cli/run-agent.js';
import { moveConnection } from '../../agent/daemon/migration-sender.js';
import type { ProxyMigration } from '../../agent/daemon/proxy-control-client.js';
import { MigrationAwareApps } from '../../agent/app-api.js';
import { loadRuntime } from '../../agent/state/runtime-file.js';
import { saveCredentials, loadCredentials } from '../../agent/state/credentials.js';
import { HomeDir } from '../../agent/state/home-dir.js';
import { registerPairCommand, startLanPresence } from '../../agent/lan/pair-command.js';

const out = (json: boolean | undefined, value: unknown, text: string) => process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
/** Progress lines: on a terminal only, so pipes and --json stay clean. */
const progress = (text: string) => {
  if (process.stderr.isTTY) process.stderr.write(`${text}\n`);
};

function withHome(cmd: Command): Command {
  return cmd.option('--home <dir>', 'state directory (default $TSMP_HOME or ~/.tsmp)').option('--json', 'print JSON');
}

export function registerAgentCommands(program: Command): void {
  withHome(program.command('agent').description('run the device agent (SMPA): heartbeats, push channel, migrations, SOCKS endpoint, dashboard'))
    .option('--nameserver <url>', 'name server URL (or $TSMP_NAMESERVER)')
    .option('--proxy <host:port>', "the proxy's SOCKS5 front")
    .option('--proxy-control <host:port>', "the proxy's control API (default: the front's port + 1)")
    .option('--device <did>', "this device's DID, e.g. phone.bob@example.org")
    .option('--token <token>', "this device's token (or $TSMP_TOKEN)")
    .option('--socks <host:port>', 'offer SOCKS5 without authentication on this loopback address')
    .option('--ui <host:port>', 'serve the dashboard on this loopback address')
    .option('--coa <address>', 'fixed care-of address instead of watching the interfaces')
    .option('--lan', 'advertise on the LAN (_tsmp._tcp) and accept pairing')
    .action(async (o: RunAgentOptions) => {
      const agent = await startAgent(o, { apps: new MigrationAwareApps(), startLan: (daemon) => startLanPresence(daemon) });
      const info = { did: agent.daemon.did, socks: agent.daemon.socksAddress ?? null, ui: agent.ui?.url ?? null, home: agent.daemon.home.path };
      out(o.json, info, [`tsmp agent ${info.did} running`, info.socks ? `  socks5://${info.socks.host}:${info.socks.port}` : '', info.ui ? `  dashboard ${info.ui}` : ''].filter(Boolean).join('\n'));
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await agent.stop();
    });

  withHome(parentCommand(program, 'device').command('register <name>').description('register this device with the name server and keep its credentials'))
    .requiredOption('--user <uid>', 'your user id (e-mail); the password comes from $TSMP_PASSWORD or a prompt')
    .option('--nameserver <url>', 'name server URL (or $TSMP_NAMESERVER)')
    .option('--proxy <host:port>', "the proxy's SOCKS5 front, kept for the agent")
    .option('--proxy-control <host:port>', "the proxy's control API")
    .action(async (name: string, o: HomeCliOptions & { user: string; nameserver?: string; proxy?: string; proxyControl?: string }) => {
      const url = o.nameserver ?? process.env.TSMP_NAMESERVER;
      if (!url) throw new ConfigError('give --nameserver URL (or set TSMP_NAMESERVER)');
      const home = new HomeDir(o.home).ensure();
      const password = await readPassword(`password for ${o.user}: `);
      const ns = new NameServerClient({ url, auth: { uid: o.user, password } });
      try {
        const { did, token } = await ns.addDevice(o.user, name);
        saveCredentials(home, { did, token, nameserver: url, ...(o.proxy ? { proxy: o.proxy } : {}), ...(o.proxyControl ? { proxyControl: o.proxyControl } : {}) });
        out(o.json, { did, home: home.path }, `registered ${did}; credentials saved in ${home.file('credentials.json')}`);
      } finally {
        ns.close();
      }
    });

  // `tsmp devices` without --user lists this device's user (the name-server part owns the command).
  const devices = program.commands.find((c) => c.name() === 'devices');
  devices?.option('--home <dir>', 'state directory, when listing your own devices');
  setDevicesWithoutUser(async (opts) => {
    const { credentials } = commandContext(opts as HomeCliOptions);
    const url = (opts.nameserver as string | undefined) ?? credentials.nameserver;
    if (!url) throw new ConfigError('no name server known; give --nameserver URL');
    const uid = parseDid(credentials.did)!.uid;
    const ns = new NameServerClient({ url, auth: { did: credentials.did, token: credentials.token } });
    try {
      const list = await ns.listDevices(uid);
      out(
        opts.json as boolean | undefined,
        { devices: list },
        table(['DEVICE', 'STATUS', 'ADDRESS', 'LAST SEEN'], list.map((d) => [`${d.name}${d.did === credentials.did ? ' (this)' : ''}`, d.status, d.coa ?? '-', d.lastSeen ?? 'never'])),
      );
    } finally {
      ns.close();
    }
  });

  withHome(program.command('ls').description("list your live connections at the proxy")).action(async (o: HomeCliOptions) => {
    const { credentials } = commandContext(o);
    const connections = await controlClient(credentials).listConnections();
    out(o.json, { connections }, connectionsTable(connections));
  });

  withHome(program.command('migrate <connection>').description('move a live connection to another of your devices'))
    .requiredOption('--to <device>', 'target device name or DID')
    .option('--handler <spec>', 'handler on the target: file:PATH, exec:CMD, port:HOST:PORT, app[:NAME], aware[:APP]')
    .option('--timeout <ms>', 'give up waiting after this long', (v) => Number(v), 120_000)
    .action(async (connection: string, o: HomeCliOptions & { to: string; handler?: string; timeout: number }) => {
      const { home, credentials } = commandContext(o);
      const control = controlClient(credentials);
      const seen = new Set<string>();
      const onUpdate = (m: ProxyMigration) => {
        for (const [phase, t] of Object.entries(m.phases)) {
          if (seen.has(phase) || t === undefined) continue;
          seen.add(phase);
          progress(`  ${phase.padEnd(10)} +${Math.round(t - (m.phases.requested ?? t))} ms`);
        }
      };
      progress(`moving ${connection} to ${o.to}…`);
      let result: ProxyMigration;
      const runtime = loadRuntime(home);
      if (runtime?.ui && runtime.uiSecret) {
        // The running agent holds the migration-aware apps, so it builds the snapshot.
        const res = await fetch(`${runtime.ui}/api/move`, {
          method: 'POST',
          headers: { authorization: `Bearer ${runtime.uiSecret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ connection, to: o.to, ...(o.handler ? { handler: o.handler } : {}) }),
        });
        const body = (await res.json()) as { migration?: string; error?: { code: string; message: string } };
        if (!res.ok || !body.migration) throw new ConfigError(body.error?.message ?? `the agent answered ${res.status}`);
        result = await control.follow(body.migration, onUpdate, { timeoutMs: o.timeout });
      } else {
        result = await moveConnection({ control, apps: new MigrationAwareApps() }, connection, o.to, { ...(o.handler ? { handler: o.handler } : {}), onUpdate, timeoutMs: o.timeout });
      }
      out(o.json, result, migrationSummary(result));
      if (result.state !== 'done') process.exitCode = 1;
    });

  withHome(program.command('status').description("this device's agent: connectivity, devices, recent migrations")).action(async (o: HomeCliOptions) => {
    const home = new HomeDir(o.home);
    const credentials = loadCredentials(home);
    const runtime = loadRuntime(home);
    if (!runtime?.ui || !runtime.uiSecret) {
      const value = { running: Boolean(runtime), did: credentials?.did ?? null, home: home.path, socks: runtime?.socks ?? null };
      out(o.json, value, `device ${credentials?.did ?? '(not registered)'}\nagent ${runtime ? `running (pid ${runtime.pid}, no dashboard: start it with --ui for full status)` : 'not running'}`);
      return;
    }
    const res = await fetch(`${runtime.ui}/api/state`, { headers: { authorization: `Bearer ${runtime.uiSecret}` }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new ConfigError(`the agent answered ${res.status}`);
    const state = (await res.json()) as ReturnType<import('../../agent/daemon/agent-state.js').AgentState['snapshot']>;
    const s = state.status;
    out(
      o.json,
      { running: true, pid: runtime.pid, ui: runtime.ui, socks: runtime.socks, ...state },
      [
        `device ${s.did}  (pid ${runtime.pid}, since ${s.startedAt})`,
        `care-of ${s.coa ?? '-'}  name server ${s.nameserver}  push ${s.push}  proxy ${s.proxy}  last heartbeat ${s.lastHeartbeat ?? 'never'}`,
        `dashboard ${runtime.ui}/?s=${runtime.uiSecret}${runtime.socks ? `  socks5://${runtime.socks}` : ''}`,
        '',
        table(
          ['DEVICE', 'STATUS', 'ADDRESS', 'LAN'],
          state.devices.map((d) => [d.name + (d.self ? ' (this)' : ''), d.status, d.coa ?? '-', state.lan.find((p) => p.device === d.name)?.addresses.join(',') ?? '-']),
        ),
        '',
        migrationsTable(state.migrations.slice(0, 10)),
      ].join('\n'),
    );
  });

  registerPairCommand(program, { withHome, out, progress });
}
