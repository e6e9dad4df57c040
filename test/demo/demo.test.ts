import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

describe('tsmp demo', () => {
  it('plays both scenarios on the whole stack and exits 0 only because every check held', async () => {
    const started = Date.now();
    // execFile rejects on a non-zero exit, so reaching the expectations means exit code 0.
    const { stdout } = await run(process.execPath, [CLI, 'demo'], { timeout: 60_000 });

    // The whole stack runs, each component on its own loopback port.
    expect(stdout).toMatch(/name server \(SMPS\)\s+http:\/\/127\.0\.0\.1:\d+\s+SQLite \S+names\.db/);
    expect(stdout).toMatch(/proxy \(SMPP\)\s+SOCKS5\/CONNECT 127\.0\.0\.1:\d+, control API http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/phone agent \(SMPA\)\s+phone\.bob@example\.org, home \S+home-phone, SOCKS 127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/pc agent \(SMPA\)\s+pc\.bob@example\.org, home \S+home-pc, SOCKS 127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/the name server sees: .*phone online/);
    // Both moves went through the name server's push channel to the PC's agent.
    expect(stdout.match(/pc's agent: Migration-To-Request received over the name server's push channel/g)).toHaveLength(2);

    expect(stdout).toMatch(/✔ sha256 [0-9a-f]{64} matches the original/);
    expect(stdout).toMatch(/✔ the phone's app got exactly the \d+ bytes its side acknowledged/);
    expect(stdout).toMatch(/✔ the PC's handler received the state the phone exported \(http:\/\/alice\.example\/video\.ts, \d+ bytes done\), from phone\.bob@example\.org/);
    expect(stdout).toContain("✔ Alice received Bob's 5 lines exactly once, in order");
    expect(stdout).toMatch(/✔ Alice's 6 lines reached the phone \(\d\) then the PC \(\d\), none lost or repeated/);
    expect(stdout).toContain("✔ the PC's chat received the state the phone exported, from phone.bob@example.org");
    expect(stdout).not.toContain('✘');
    expect(stdout).toContain('All checks held');

    // The scratch directory (SQLite file, agents' homes, downloaded parts) is gone afterwards.
    const scratch = /scratch directory (\S+):/.exec(stdout)?.[1];
    expect(scratch).toBeDefined();
    expect(existsSync(scratch!)).toBe(false);
    // The bound for the demo.
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 90_000);
});
