#!/usr/bin/env node
// Builds dist/: what a user runs. Every runtime TypeScript module is transpiled one to one (same layout, so
// paths relative to import.meta.url keep working), the generated contract code and data files are copied, and the
// dashboard is bundled once here instead of at every start. Type checking is `npm run typecheck`'s job (tsc); this
// only strips types, which is why it takes about a second. Tests and test support are left out.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
// The folders whose code runs in a user's process. bench/, test/, scripts/ and fixtures/ are development only.
const RUNTIME = [
  'cli',
  'lib',
  'gateway',
  'broker',
  'central',
  'fanout',
  'archive',
  'decoders',
  'simulators',
  'proto',
  'dashboard',
];
// Data a runtime module reads beside itself (scenarios, vendor maps, the page's static files, generated code).
const DATA = new Set(['.json', '.yaml', '.yml', '.html', '.css', '.svg', '.js', '.proto']);

function walk(dir, files = []) {
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, files);
    else files.push(p);
  }
  return files;
}

/** Test files and test support (anything importing vitest) never ship. */
function isTestCode(file) {
  if (/\.test\.ts$|\.d\.ts$/.test(file)) return true;
  return /from ['"]vitest['"]/.test(readFileSync(file, 'utf8'));
}

const started = Date.now();
rmSync(out, { recursive: true, force: true });
const entries = [];
for (const d of RUNTIME) {
  for (const f of walk(join(root, d))) {
    const ext = extname(f);
    if (ext === '.ts') {
      if (!isTestCode(f)) entries.push(f);
    } else if (DATA.has(ext) && !f.includes(`${join(root, 'dashboard')}/public`)) {
      const to = join(out, relative(root, f));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(f, to);
    }
  }
}

await build({
  entryPoints: entries,
  outdir: out,
  outbase: root,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked', // stack traces from the field point at the TypeScript lines
  logLevel: 'warning',
});

// The dashboard: one minified browser bundle, served as is (dashboard/bundle.ts prefers it when present).
const page = join(out, 'dashboard', 'public');
mkdirSync(page, { recursive: true });
await build({
  entryPoints: [join(root, 'dashboard', 'app.ts')],
  outfile: join(page, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  logLevel: 'warning',
  // protobufjs/minimal probes for long.js inside a try/catch; the generated code sets util.Long = null.
  external: ['long'],
});
for (const f of ['index.html', 'style.css', 'favicon.svg']) cpSync(join(root, 'dashboard', f), join(page, f));

// The entry point reads this to refuse a dist/ older than the sources it was built from.
writeFileSync(join(out, 'BUILD'), `${new Date().toISOString()}\n`);
console.log(`build: dist/ from ${entries.length} modules in ${Date.now() - started} ms`);
