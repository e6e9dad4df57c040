/**
 * `tsmp/mtcp`: the Migratory TCP server kit and client library (issue 5, docs/mtcp.md).
 */
export { MtcpServer, type ResumeEvent } from './server/mtcp-server.js';
export type { MtcpServerOptions } from './server/server-options.js';
export { SERVER_DEFAULTS } from './server/server-options.js';
export type { MtcpSession, ConnectionHandler, SessionCloseReason } from './server/session-types.js';
export { parsePoolConfig, loadPoolConfig, findMember, type PoolConfig, type PoolMember } from './server/pool-config.js';

export { MtcpClientConnection, connectMtcp } from './client/client-connection.js';
export type { MtcpClientOptions } from './client/client-options.js';
export type { ServerMigrationRecord, MigrationTrigger, MigrationState, MigrationAttempt } from './client/migration-record.js';
export type { ThroughputPolicyOptions } from './client/throughput-policy.js';

export type { SnapshotStore } from './state/snapshot-store.js';
export { MemorySnapshotStore } from './state/memory-store.js';
export { PushSnapshotStore } from './state/push-store.js';
export { RedisSnapshotStore, type RedisStoreOptions } from './state/redis-store.js';
export { createSnapshotStore } from './state/store-factory.js';
export { sealRecord, openRecord, type SnapshotRecord } from './state/snapshot-record.js';

export { derivePoolKeys, type PoolKeys } from './cert/pool-keys.js';
export { issueCertificate, verifyCertificate, type CertificatePayload } from './cert/migration-certificate.js';

export { MtcpError, MtcpErrorCode, MtcpProtocolError } from './errors.js';
export { PREAMBLE, FrameType } from './wire/frame-types.js';

export { streamHandler, createStreamServer, type StreamServiceOptions, type StreamSnapshot } from './examples/stream-server.js';
export { parseStreamRequest, formatStreamRequest, streamBytes, expectedStreamHash } from './examples/stream-protocol.js';
export { runStreamServer, type RunStreamServerOptions } from './examples/run-stream-server.js';
export { runDegradingScenario, profileRate, profileMean, DEFAULT_PROFILE, type DegradingProfile, type DegradingResult } from './examples/degrading-scenario.js';
// The bank demo (PostgreSQL) is not re-exported here, so that `tsmp/mtcp` does not load pg.
