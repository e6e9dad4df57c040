/**
 * What the demo prints: a short narrative, progress bars on a terminal (plain lines when piped),
 * and the migration's phases and timings.
 */
export class Narrator {
  private readonly tty = Boolean(process.stdout.isTTY);
  private barOpen = false;

  say(text: string): void {
    this.endBar();
    process.stdout.write(`${text}\n`);
  }

  step(n: number, text: string): void {
    this.say(`\n${n}. ${text}`);
  }

  ok(text: string): void {
    this.say(`   ✔ ${text}`);
  }

  fail(text: string): void {
    this.say(`   ✘ ${text}`);
  }

  /** Redraws one progress bar in place on a terminal; silent otherwise. */
  progress(label: string, done: number, total: number): void {
    if (!this.tty) return;
    const width = 30;
    const filled = Math.min(width, Math.round((done / total) * width));
    const pct = ((100 * done) / total).toFixed(0).padStart(3);
    process.stdout.write(`\r   ${label.padEnd(10)} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${pct}% ${mib(done)}/${mib(total)}`);
    this.barOpen = true;
  }

  endBar(): void {
    if (this.barOpen) process.stdout.write('\n');
    this.barOpen = false;
  }

  /**
   * Prints a migration's phases as offsets from the request, on one timeline: the proxy's phases
   * (control API) and, when given, the target agent's own (its migration record). One machine,
   * one clock, so the two interleave truthfully.
   */
  migration(m: MigrationView, target?: { device: string; record: AgentMigrationView; phases?: readonly AgentPhase[] }): void {
    const t0 = m.phases.requested ?? 0;
    const proxyText: [keyof MigrationView['phases'], string][] = [
      ['paused', 'proxy: server paused (window closes)'],
      ['waiting', 'proxy: ticket issued, Migration-To-Request pushed'],
      ['targetConnected', 'proxy: target device connected'],
      ['attached', 'proxy: target attached, old device cut'],
      ['firstByte', 'proxy: first replayed byte sent'],
      ['resumed', 'proxy: server read again (window reopens)'],
    ];
    const lines: [number, string][] = [];
    for (const [key, text] of proxyText) {
      const at = m.phases[key];
      if (at !== undefined) lines.push([at, text]);
    }
    if (target) {
      const { device, record } = target;
      const agentText: Record<AgentPhase, string> = {
        received: `${device}'s agent: Migration-To-Request received over the name server's push channel`,
        attached: `${device}'s agent: tunnel by ticket open, stream handed to its handler`,
        handled: `${device}'s agent: handler ${record.handler ?? ''} done with the stream`,
      };
      for (const key of target.phases ?? AGENT_PHASES) {
        const at = record.phases[key];
        if (at !== undefined) lines.push([at, agentText[key]]);
      }
    }
    // Stable sort: on a tie the proxy's phase, listed first, stays first.
    lines.sort((a, b) => a[0] - b[0]);
    for (const [at, text] of lines) this.say(`      +${(at - t0).toFixed(1).padStart(7)} ms  ${text}`);
    this.say(`      replayed ${m.bytesReplayed} cached bytes from stream offset ${m.fromOffset}`);
  }

  /** The target's handler finishing, long after the move itself for a download. */
  handlerDone(device: string, record: AgentMigrationView, requestedAt: number): void {
    const at = record.phases.handled;
    if (at !== undefined) this.say(`      +${(at - requestedAt).toFixed(1).padStart(7)} ms  ${device}'s agent: handler ${record.handler ?? ''} done with the stream`);
  }
}

const AGENT_PHASES = ['received', 'attached', 'handled'] as const;
type AgentPhase = 'received' | 'attached' | 'handled';

export interface AgentMigrationView {
  handler?: string | undefined;
  phases: Partial<Record<AgentPhase, number>>;
}

export interface MigrationView {
  id: string;
  state: string;
  phases: Partial<Record<'requested' | 'paused' | 'waiting' | 'targetConnected' | 'attached' | 'firstByte' | 'resumed' | 'done', number>>;
  bytesReplayed: number;
  fromOffset: number;
}

export function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
