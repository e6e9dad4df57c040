import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

describe('tsmp demo', () => {
  it('plays both scenarios and exits 0 only because every check held', async () => {
    const started = Date.now();
    const { stdout } = await run(process.execPath, [CLI, 'demo'], { timeout: 60_000 });
    expect(stdout).toContain('All checks held');
    expect(stdout).toMatch(/✔ sha256 [0-9a-f]{64} matches the original/);
    expect(stdout).toContain("Alice received Bob's 5 lines exactly once, in order");
    expect(stdout).not.toContain('✘');
    // The bound for the demo, generous for a loaded machine.
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 90_000);
});
