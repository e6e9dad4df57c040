import { parseHostPort } from '../../common/host-port.js';
import { createLogger } from '../../common/logger.js';
import { UsersFileAuthenticator } from '../../proxy/auth/users-file-authenticator.js';
import { Proxy } from '../../proxy/proxy.js';

/**
 * Fallback for `--proxy lib`: the proxy library started the way `tsmp proxy --users` starts it,
 * printing the same banner. Only for when the CLI cannot load because another part of the tree is
 * half-built; the default is the real `tsmp proxy` command. argv: LISTEN CONTROL USERS MAXBUFFER.
 */
const [listen = '127.0.0.1:0', control = '127.0.0.1:0', users = '', maxBuffer = '4194304'] = process.argv.slice(2);
const proxy = new Proxy(
  { listen: parseHostPort(listen), control: parseHostPort(control), maxBuffer: Number(maxBuffer) },
  { authenticator: await UsersFileAuthenticator.fromFile(users), logger: createLogger('proxy') },
);
const bound = await proxy.start();
process.stdout.write(`tsmp proxy: devices on ${bound.listen.host}:${bound.listen.port}, control API on http://${bound.control?.host}:${bound.control?.port}\n`);
const stop = (): void => void proxy.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
