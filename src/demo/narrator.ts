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

  /** Prints a migration record's phases as offsets from the request. */
  migration(m: MigrationView): void {
    const t0 = m.phases.requested ?? 0;
    const order: [keyof MigrationView['phases'], string][] = [
      ['paused', 'server paused (window closes)'],
      ['waiting', 'ticket issued, waiting for the target'],
      ['targetConnected', 'target device connected'],
      ['attached', 'target attached, old device cut'],
      ['firstByte', 'first replayed byte sent'],
      ['resumed', 'server read again (window reopens)'],
    ];
    for (const [key, text] of order) {
      const at = m.phases[key];
      if (at !== undefined) this.say(`      +${(at - t0).toFixed(1).padStart(7)} ms  ${text}`);
    }
    this.say(`      replayed ${m.bytesReplayed} cached bytes from stream offset ${m.fromOffset}`);
  }

  /**
   * Prints the target agent's side of the same migration, on the proxy's clock origin (one
   * machine, one clock): when the Migration-To-Request arrived over the name server's push
   * channel, when the agent attached with the ticket, and when its handler was done.
   */
  agentSide(device: string, record: AgentMigrationView, requestedAt: number, keys: readonly AgentPhase[] = ['received', 'attached', 'handled']): void {
    const text: Record<AgentPhase, string> = {
      received: `${device}'s agent got the Migration-To-Request (name server push)`,
      attached: `${device}'s agent attached with the ticket`,
      handled: `${device}'s handler ${record.handler ?? ''} finished with the stream`,
    };
    for (const key of keys) {
      const at = record.phases[key];
      if (at !== undefined) this.say(`      +${(at - requestedAt).toFixed(1).padStart(7)} ms  ${text[key]}`);
    }
  }
}

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
