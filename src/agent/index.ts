/**
 * The agent's public surface, for `tsmp demo` and for applications that embed an agent: the
 * daemon, the migration-aware app API (M-TCP export/import), the handlers, the proxy client and
 * the dashboard.
 */
export { AgentDaemon, type AgentDaemonOptions } from './daemon/agent-daemon.js';
export { AgentState, type MigrationRecord, type ConnectionView, type DeviceView, type AgentStatus, type StateEvent } from './daemon/agent-state.js';
export { ProxyControlClient, ProxyControlError, type ProxyConnection, type ProxyMigration } from './daemon/proxy-control-client.js';
export { moveConnection, findConnection, type MoveOptions } from './daemon/migration-sender.js';
export { MigrationAwareApps, readEnvelope, checkSnapshotSize, type MigrationAwareApp, type SnapshotEnvelope, type ImportContext, type ConnectionRef, type JsonValue } from './app-api.js';
export type { ResumedStream, StreamHandler, HandlerOutcome, HandlerSpec } from './handlers/handler-types.js';
export { parseHandlerSpec, formatHandlerSpec } from './handlers/handler-spec.js';
export { chooseHandlerSpec, createHandler, type HandlerDeps } from './handlers/handler-choice.js';
export { FileHandler } from './handlers/file-handler.js';
export { ExecHandler } from './handlers/exec-handler.js';
export { PortHandler } from './handlers/port-handler.js';
export { AppHandler } from './handlers/app-handler.js';
export { AwareHandler } from './handlers/aware-handler.js';
export { connectViaProxy, attachByTicket, type ProxyTunnel, type ProxyConnectOptions } from './proxy-client/connect-via-proxy.js';
export { ticketHost } from './proxy-client/socks5-codes.js';
export { LocalSocksEndpoint } from './socks-endpoint/local-socks-endpoint.js';
export { HomeDir, defaultHome } from './state/home-dir.js';
export { loadCredentials, saveCredentials, resolveCredentials, type Credentials } from './state/credentials.js';
export { loadConfig, saveConfig } from './state/config-file.js';
export type { AgentConfig } from './state/agent-config.js';
export { UiServer } from './ui/ui-server.js';
export { startAgent, type RunAgentOptions, type RunningAgent } from './cli/run-agent.js';
export * from './errors.js';
