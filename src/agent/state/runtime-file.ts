import { z } from 'zod';
import type { HomeDir } from './home-dir.js';

export const RUNTIME_FILE = 'agent.json';

/**
 * Written by a running agent (0600, it holds the dashboard secret) so that the CLI finds it:
 * `tsmp status`, `tsmp migrate` and the dashboard link use it.
 */
export const runtimeSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  did: z.string(),
  ui: z.string().nullable(),
  uiSecret: z.string().nullable(),
  socks: z.string().nullable(),
});
export type AgentRuntime = z.infer<typeof runtimeSchema>;

export function loadRuntime(home: HomeDir): AgentRuntime | undefined {
  const runtime = home.readJson(RUNTIME_FILE, runtimeSchema, { secret: true });
  if (!runtime) return undefined;
  try {
    process.kill(runtime.pid, 0);
    return runtime;
  } catch {
    return undefined; // a stale file from an agent that is gone
  }
}

export function saveRuntime(home: HomeDir, runtime: AgentRuntime): void {
  home.writeJson(RUNTIME_FILE, runtime, { secret: true });
}
