import { z } from 'zod';

/**
 * `config.json` in the state directory. Handlers are chosen per destination (issue 4): the key is
 * `host:port`, or `host` for any port, or `*` for everything else; the value is a handler spec.
 *
 * ```json
 * { "handlers": { "video.example.org:80": "file:/home/bob/Downloads/{connection}.part",
 *                 "chat.example.org": "exec:cat", "*": "port:127.0.0.1:0" },
 *   "apps": { "default": "curl -s http://$TSMP_DESTINATION/ >> /tmp/out" } }
 * ```
 */
export const agentConfigSchema = z
  .object({
    handlers: z.record(z.string(), z.string().min(1)).default({}),
    /** Named commands for the `app` handler (`app` runs `default`, `app:NAME` runs NAME). */
    apps: z.record(z.string(), z.string().min(1)).default({}),
    /** Bounds and timeouts, all optional. */
    limits: z
      .object({
        portQueueBytes: z.number().int().positive().optional(),
        portAttachTimeoutMs: z.number().int().positive().optional(),
        appAttachTimeoutMs: z.number().int().positive().optional(),
      })
      .default({}),
  })
  .strict();

export type AgentConfig = z.infer<typeof agentConfigSchema>;

export function emptyConfig(): AgentConfig {
  return agentConfigSchema.parse({});
}
