// Makes `npx tsmp` work inside a clone: npx looks in node_modules/.bin first, and npm does not
// link a package's own bin into its own node_modules.
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';

mkdirSync('node_modules/.bin', { recursive: true });
rmSync('node_modules/.bin/tsmp', { force: true });
symlinkSync('../../dist/cli/main.js', 'node_modules/.bin/tsmp');
chmodSync('dist/cli/main.js', 0o755);
