import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger. JSON lines on stderr so that stdout stays free for command output
 * (`--json`). `TSMP_LOG` sets the level; tests run silent unless asked.
 */
export function createLogger(name: string, level = process.env.TSMP_LOG ?? (process.env.VITEST ? 'silent' : 'info')): Logger {
  return pino({ name, level }, pino.destination(2));
}

/** A logger that drops everything, for components built without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
