import { TsmpError } from '../common/errors.js';

/** A system command (`ip`, `tc`, `ss`) of the emulated network failed. */
export class NetemCommandError extends TsmpError {
  readonly command: string;
  readonly stderr: string;

  constructor(command: string, stderr: string, options?: { cause?: unknown }) {
    super('ERR_NETEM_COMMAND', `${command}: ${stderr.trim() || 'failed'}`, options);
    this.command = command;
    this.stderr = stderr;
  }
}

/** The machine does not allow what the emulated network needs (root, `ip netns`, `/dev/net/tun`). */
export class NetemNotPermittedError extends TsmpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NETEM_NOT_PERMITTED', message, options);
  }
}

/** A topology or link description that cannot be built. */
export class NetemConfigError extends TsmpError {
  constructor(message: string) {
    super('ERR_NETEM_CONFIG', message);
  }
}
