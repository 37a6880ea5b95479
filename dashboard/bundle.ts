// Builds the dashboard in memory for the fan-out to serve: '/', '/index.html', '/app.js', '/style.css' and
// '/favicon.svg'. Everything is local; the bundle carries protobufjs and the generated contract code.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface DashboardAsset {
  readonly body: Buffer;
  readonly type: string;
}

const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

export async function bundleDashboard(): Promise<Map<string, DashboardAsset>> {
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
  const page: DashboardAsset = { body: html, type: 'text/html; charset=utf-8' };
  return new Map<string, DashboardAsset>([
    ['/', page],
    ['/index.html', page],
    ['/app.js', { body: Buffer.from(js.contents), type: 'text/javascript; charset=utf-8' }],
    ['/style.css', { body: css, type: 'text/css; charset=utf-8' }],
    ['/favicon.svg', { body: icon, type: 'image/svg+xml' }],
  ]);
}
