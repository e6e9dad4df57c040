/** What the name-server commands share: reading a password, a CA file, and building a client. */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ConfigError } from '../../common/errors.js';
import { NameServerClient, type ClientAuth } from './name-server-client.js';

export interface ClientCliOptions {
  nameserver?: string;
  ca?: string;
}

export function clientFromCli(opts: ClientCliOptions, auth?: ClientAuth): NameServerClient {
  const url = opts.nameserver ?? process.env.TSMP_NAMESERVER;
  if (!url) throw new ConfigError('give --nameserver URL (or set TSMP_NAMESERVER)');
  return new NameServerClient({ url, ca: opts.ca ? readFileSync(opts.ca) : undefined, auth });
}

/** `TSMP_PASSWORD`, else a prompt on the terminal with the echo off, else one line of stdin. */
export async function readPassword(prompt: string): Promise<string> {
  const env = process.env.TSMP_PASSWORD;
  if (env !== undefined && env !== '') return env;
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY === true });
  const tty = process.stdin.isTTY === true;
  if (tty) {
    process.stderr.write(prompt);
    // Keep typed characters off the screen: readline writes through this once the prompt is out.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  }
  try {
    const line = await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      rl.once('close', () => reject(new ConfigError('no password given (set TSMP_PASSWORD)')));
    });
    if (tty) process.stderr.write('\n');
    return line;
  } finally {
    rl.close();
  }
}
