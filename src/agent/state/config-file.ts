import { agentConfigSchema, emptyConfig, type AgentConfig } from './agent-config.js';
import type { HomeDir } from './home-dir.js';

export const CONFIG_FILE = 'config.json';

/** Reads `config.json`; a missing file is an empty config (every stream goes to `received/`). */
export function loadConfig(home: HomeDir): AgentConfig {
  return home.readJson(CONFIG_FILE, agentConfigSchema) ?? emptyConfig();
}

export function saveConfig(home: HomeDir, config: AgentConfig): void {
  home.writeJson(CONFIG_FILE, agentConfigSchema.parse(config));
}
