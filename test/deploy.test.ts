// The deployment files as a site would use them: the one-site central example starts on one machine with no Redis and
// serves the dashboard over HTTPS; the Grafana dashboard queries only metrics that the code exports (and the central's
// in a real scrape of it), and shows every fan-out metric; both compose files name no CA private key.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedAllocatorEnv, startCentralProcess } from '../broker/test-kit.js';

/** GET (or POST `body`) over HTTPS trusting only `ca`. */
function httpsText(url: string, ca: string, o: { origin?: string; body?: string } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ca,
        method: o.body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', ...(o.origin ? { origin: o.origin } : {}) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Whether ld.so can preload what `env` names (it only warns when it cannot). */
function preloads(env: Record<string, string>): boolean {
  const r = spawnSync(process.execPath, ['-e', ''], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return r.status === 0 && !r.stderr.includes('cannot be preloaded');
}

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'vitalwire');
const run = (args: string[], input?: string) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    ...(input !== undefined ? { input } : {}),
  });

/** Every .ts file of the runtime folders, for "is this metric name defined anywhere". */
function runtimeSources(): string {
  let text = '';
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) text += readFileSync(p, 'utf8');
    }
  };
  for (const d of ['gateway', 'broker', 'central', 'fanout', 'archive', 'lib']) walk(join(ROOT, d));
  return text;
}

describe('deploy/', () => {
  it('the Grafana dashboard queries only metrics the gateway and the central export', () => {
    const dash = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'dashboards', 'vitalwire.json'), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(15);
    const names = new Set(exprs.flatMap((e) => e.match(/vitalwire_[a-z_]+/g) ?? []));
    const src = runtimeSources();
    const missing = [...names].filter((n) => !src.includes(`'${n}'`));
    expect(missing).toEqual([]);
  });

  it('the Grafana dashboard shows every fan-out metric, each panel with a unique id', () => {
    const dash = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'dashboards', 'vitalwire.json'), 'utf8')) as {
      panels: { id: number; targets?: { expr: string }[] }[];
    };
    const queried = new Set(
      dash.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => t.expr.match(/vitalwire_[a-z_]+/g) ?? [])),
    );
    const registered = [
      ...readFileSync(join(ROOT, 'fanout', 'metrics.ts'), 'utf8').matchAll(/'(vitalwire_fanout_[a-z_]+)'/g),
    ].map((m) => m[1] as string);
    expect(registered.length).toBeGreaterThan(20);
    expect(registered.filter((n) => !queried.has(n))).toEqual([]);
    const ids = dash.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('no compose file mounts the CA private key', async () => {
    for (const f of ['docker-compose.yml', 'docker-compose.cluster.yml']) {
      const text = await readFile(join(ROOT, f), 'utf8');
      const mounts = JSON.stringify(parseYaml(text));
      expect(mounts, f).not.toMatch(/ca\.key|"\.\/pki:/);
    }
  });

  // systemd-analyze verify reads a unit as systemd would (directives, values, the executables it names). Missing only on
  // a developer machine without systemd; CI installs it (.ci/run), and there the test always runs.
  const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  it.runIf(hasAnalyze || process.env['VW_CI'])(
    'both systemd units verify, run as the vitalwire user and check their config before starting',
    async () => {
      const tmp = await mkdtemp(join(tmpdir(), 'vw-units-'));
      try {
        for (const side of ['gateway', 'central']) {
          const name = `vitalwire-${side}.service`;
          const text = await readFile(join(ROOT, 'deploy', name), 'utf8');
          expect(text).toMatch(/^User=vitalwire$/m);
          expect(text).toContain(
            `ExecStartPre=/opt/vitalwire/bin/vitalwire ${side} --config /etc/vitalwire/${side}.yaml --check-config\n`,
          );
          expect(text).toContain(
            `ExecStart=/opt/vitalwire/bin/vitalwire ${side} --config /etc/vitalwire/${side}.yaml\n`,
          );
          // The installed command's path does not exist here: this checkout's bin stands in for it.
          await writeFile(join(tmp, name), text.replaceAll('/opt/vitalwire/bin/vitalwire', BIN));
          const r = spawnSync('systemd-analyze', ['verify', join(tmp, name)], { encoding: 'utf8' });
          expect(r.stderr + r.stdout, name).toBe('');
          expect(r.status, name).toBe(0);
        }
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  );

  describe('the one-site central example', () => {
    let dir: string;
    let central: Awaited<ReturnType<typeof startCentralProcess>> | null = null;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'vw-one-site-'));
    });
    afterAll(async () => {
      await central?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('starts on one machine with no Redis and serves the dashboard to a user of the site', async () => {
      expect(run(['ca', 'init', '--dir', join(dir, 'pki'), '--host', '127.0.0.1']).status).toBe(0);
      expect(
        run(
          [
            'users',
            'add',
            'dr-an',
            '--role',
            'observer',
            '--sites',
            'site1',
            '--file',
            join(dir, 'users.yaml'),
            '--password-stdin',
          ],
          'a long enough password\n',
        ).status,
      ).toBe(0);
      // The shipped file, with only what a test machine needs changed: free ports, a state directory it may write.
      const config = parseYaml(await readFile(join(ROOT, 'deploy', 'central.yaml'), 'utf8')) as Record<
        string,
        Record<string, unknown>
      >;
      expect(config['redis']).toBeUndefined();
      expect(config['fanout']).toBeDefined();
      config['listen'] = { ...config['listen'], host: '127.0.0.1', port: 0 };
      config['fanout'] = { ...config['fanout'], host: '127.0.0.1', port: 0 };
      config['http'] = { ...config['http'], host: '127.0.0.1', port: 0 };
      (config as Record<string, unknown>)['dataDir'] = join(dir, 'state');
      await writeFile(join(dir, 'central.yaml'), toYaml(config));
      const check = run(['central', '--config', join(dir, 'central.yaml'), '--check-config']);
      expect(check.status, check.stderr).toBe(0);
      expect(check.stdout).toContain('single node');
      // With the unit's allocator (jemalloc preloaded), as systemd starts it.
      const allocEnv = deployedAllocatorEnv();
      expect(allocEnv['LD_PRELOAD']).toBe('libjemalloc.so.2');
      central = await startCentralProcess(['--config', join(dir, 'central.yaml')], [], { ...process.env, ...allocEnv });
      // A machine without libjemalloc2 gets ld.so's warning and glibc's malloc, and the central says so; CI installs it.
      if (preloads(allocEnv) || process.env['VW_CI'])
        expect(central.out()).toContain('central: memory allocator jemalloc\n');
      else expect(central.out()).toContain('central: memory allocator glibc malloc (preload libjemalloc2');
      // The dashboard is HTTPS (fanout.tls), with the broker's certificate from `ca init`: trusted through the site CA.
      const url = /dashboard (https:\/\/\S+)/.exec(central.out())?.[1];
      expect(url, central.out()).toBeDefined();
      const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
      const page = await httpsText(url as string, ca);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<html');
      const login = await httpsText(new URL('/api/login', url).href, ca, {
        origin: new URL(url as string).origin,
        body: JSON.stringify({ user: 'dr-an', password: 'a long enough password' }),
      });
      expect(login.status).toBe(200);
      // Every central metric the Grafana dashboard queries is in this central's own scrape (the gateway's are in the
      // gateway's, checked against the sources above).
      const health = /health and metrics on http port (\d+)/.exec(central.out())?.[1];
      const scrape = await (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
      const dash = readFileSync(join(ROOT, 'deploy', 'grafana', 'dashboards', 'vitalwire.json'), 'utf8');
      const centralNames = [...new Set(dash.match(/vitalwire_(?:fanout|broker|process)_[a-z_]+/g) ?? [])];
      expect(centralNames.length).toBeGreaterThan(25);
      expect(centralNames.filter((n) => !scrape.includes(`# TYPE ${n} `))).toEqual([]);
    });
  });
});
