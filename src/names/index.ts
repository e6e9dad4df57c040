/** Public surface of the name server part, for the CLI, the proxy and the agent. */
export { NameServer, type NameServerOptions } from './name-server.js';
export { NameServerClient, type ClientAuth, type NameServerClientOptions, type DeviceListing, type Introduction } from './client/name-server-client.js';
export { PushSubscriber, type PushSubscriberOptions } from './client/push-subscriber.js';
export { NamespaceReplica, type ReplicaSnapshot } from './sync/namespace-replica.js';
export { foldLog, compareEntries, type LogEntry, type StoredLogEntry } from './sync/log-entry.js';
export type { Resolution, DeviceStatus } from './model.js';
export type { HeartbeatReply } from './service/presence.js';
export type { PushMessage, CoaEvent, DeliveryResult } from './service/context.js';
export { NameServerHttpError } from './errors.js';
export { openStore } from './store/open-store.js';
export type { NameStore } from './store/name-store.js';
export type {
  AgentMessage,
  ProxyMessage,
  MigrationMessage,
  MigrationRequest,
  IntroductionMessage,
  GroupChangedMessage,
  PairedMessage,
  RevokedMessage,
  HelloMessage,
} from './push/messages.js';
