// The dashboard's files for the fan-out to serve: '/', '/index.html', '/app.js', '/style.css' and '/favicon.svg'.
// What a user runs (dist/) carries them prebuilt by scripts/build.mjs in ./public; a source checkout under a test
// runner bundles them in memory with esbuild (a development dependency). Everything is local; the bundle carries
// protobufjs and the generated contract code.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface DashboardAsset {
  readonly body: Buffer;
  readonly type: string;
}

const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

export async function bundleDashboard(): Promise<Map<string, DashboardAsset>> {
  if (existsSync(here('./public/app.js'))) {
    const [js, html, css, icon] = await Promise.all(
      ['app.js', 'index.html', 'style.css', 'favicon.svg'].map((f) => readFile(here(`./public/${f}`))),
    );
    return assets(js as Buffer, html as Buffer, css as Buffer, icon as Buffer);
  }
  const { build } = await import('esbuild');
  const [result, html, css, icon] = await Promise.all([
    build({
      entryPoints: [here('./app.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      sourcemap: false,
      logLevel: 'silent',
      // protobufjs/minimal probes for long.js inside a try/catch; the generated code sets
      // util.Long = null (int64 fields are plain numbers), so long.js would be dead weight.
      external: ['long'],
    }),
    readFile(here('./index.html')),
    readFile(here('./style.css')),
    readFile(here('./favicon.svg')),
  ]);
  const js = result.outputFiles[0];
  if (result.outputFiles.length !== 1 || js === undefined) {
    throw new Error(`dashboard bundle: expected one output file, got ${result.outputFiles.length}`);
  }
  return assets(Buffer.from(js.contents), html, css, icon);
}

function assets(js: Buffer, html: Buffer, css: Buffer, icon: Buffer): Map<string, DashboardAsset> {
  const page: DashboardAsset = { body: html, type: 'text/html; charset=utf-8' };
  return new Map<string, DashboardAsset>([
    ['/', page],
    ['/index.html', page],
    ['/app.js', { body: js, type: 'text/javascript; charset=utf-8' }],
    ['/style.css', { body: css, type: 'text/css; charset=utf-8' }],
    ['/favicon.svg', { body: icon, type: 'image/svg+xml' }],
  ]);
}
