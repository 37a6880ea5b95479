#!/usr/bin/env node
// The package as a user installs it: `npm pack`, the tarball installed into an empty folder (production
// dependencies only, no TypeScript loader, no sources), then `vitalwire --version` and a short `vitalwire demo`
// that must serve its dashboard and stop cleanly on SIGTERM. .ci/run runs this after npm test.
/* global fetch */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'vw-pack-'));
const fail = (msg) => {
  console.error(`pack-check: ${msg}`);
  process.exitCode = 1;
};

try {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [info] = JSON.parse(out);
  const files = info.files.map((f) => f.path);
  // What must and must not ship.
  for (const must of [
    'bin/vitalwire',
    'dist/cli/main.js',
    'dist/dashboard/public/app.js',
    'dist/proto/gen/vitals.js',
    'README.md',
  ]) {
    if (!files.includes(must)) fail(`${must} is not in the package`);
  }
  const stray = files.filter(
    (f) => /\.test\.|^test\/|^fixtures\/|^bench\/|^scripts\/|\.ts$/.test(f) && !f.endsWith('.d.ts'),
  );
  if (stray.length > 0)
    fail(`the package ships development files: ${stray.slice(0, 5).join(', ')}${stray.length > 5 ? ', …' : ''}`);
  console.log(`pack-check: ${info.filename}: ${files.length} files, ${(info.size / 1024).toFixed(0)} KiB packed`);

  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  execFileSync('npm', ['init', '-y'], { cwd: app, stdio: 'ignore' });
  execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', join(work, info.filename)], {
    cwd: app,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (existsSync(join(app, 'node_modules', 'tsx'))) fail('tsx was installed with the package');
  const bin = join(app, 'node_modules', '.bin', 'vitalwire');

  const pkgVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const v = execFileSync(bin, ['--version'], { encoding: 'utf8' });
  if (!v.startsWith(`vitalwire ${pkgVersion} `)) fail(`--version printed ${JSON.stringify(v)}`);
  else console.log(`pack-check: ${v.trim()}`);

  // A short demo from the installed package: it prints the dashboard URL, serves the page, stops on SIGTERM.
  const data = join(work, 'demo-data');
  const demo = spawn(bin, ['demo', '--http-port', '0', '--mqtt-port', '0', '--data-dir', data, '--beds', '1'], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  demo.stdout.on('data', (b) => (text += b));
  demo.stderr.on('data', (b) => (text += b));
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`demo did not start in 30 s:\n${text}`)), 30_000);
    const check = () => {
      const m = /Dashboard:\s+(http:\/\/\S+)/.exec(text);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    };
    demo.stdout.on('data', check);
    demo.on('exit', (code) => reject(new Error(`demo exited with ${code}:\n${text}`)));
  });
  const page = await fetch(url);
  const js = await fetch(new URL('/app.js', url));
  if (!page.ok || !(await page.text()).includes('<html')) fail(`the dashboard page at ${url} did not load`);
  if (!js.ok || (await js.arrayBuffer()).byteLength < 10_000) fail('the dashboard bundle did not load');
  demo.kill('SIGTERM');
  const code = await new Promise((resolve) => demo.on('exit', (c) => resolve(c)));
  if (code !== 0) fail(`demo exited with ${code} on SIGTERM:\n${text}`);
  else console.log(`pack-check: the installed demo served ${url} and stopped cleanly`);
  if (readdirSync(app).length === 0) fail('nothing installed');
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
} finally {
  rmSync(work, { recursive: true, force: true });
}
