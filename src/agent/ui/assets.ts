import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard's plain HTML, CSS and JS (no bundler). They live in `src/agent/ui/public/`; the
 * compiled server in `dist/agent/ui/` finds them at the same place in the package.
 */
const DIRS = [new URL('./public/', import.meta.url), new URL('../../../src/agent/ui/public/', import.meta.url)];

function load(name: string): string {
  for (const dir of DIRS) {
    const path = fileURLToPath(new URL(name, dir));
    if (existsSync(path)) return readFileSync(path, 'utf8');
  }
  throw new Error(`dashboard asset ${name} is missing from the package`);
}

let cache: { html: string; js: string; css: string } | undefined;

export function assets(): { html: string; js: string; css: string } {
  cache ??= { html: load('index.html'), js: load('app.js'), css: load('style.css') };
  return cache;
}
