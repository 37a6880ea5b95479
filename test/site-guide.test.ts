// docs/site-guide.md, run as written: every ```sh block of the guide carries a marker `<!-- site-guide: step NAME -->`,
// and this test runs each block (in the guide's order, with bash -euo pipefail) against the compiled `vitalwire`
// (bin/vitalwire, built by the global setup), or lists it in NOT_RUN with the reason. The guide's two machines (the
// central machine and the gateway box) become two directories under one temporary directory, and the guide's fixed
// names are replaced, in the commands and in the files the guide copies, by these (SUBSTITUTIONS below):
//   /etc/vitalwire, /var/lib/vitalwire, /root/  -> <tmp>/<machine>/etc/vitalwire, .../var/lib/vitalwire, .../root/
//   /opt/vitalwire/lib/node_modules/vitalwire   -> this checkout (where the package's files are)
//   central.hospital.example                    -> 127.0.0.1 (the broker certificate is made for it by `ca init`)
//   ports 8883 (MQTT), 8080 (dashboard), 9464 (health), 4001 (the simulated monitor) -> free ephemeral ports
//   host: 0.0.0.0 in the copied central.yaml   -> 127.0.0.1 (nothing of a test listens beyond loopback)
//   'the password users add printed'            -> the password `users add` printed
//   SERIAL-FROM-THE-LIST                        -> the gateway's serial, read from `gateways list` as a person would
// and the copied central.yaml gets `tls.revocationRecheckSeconds: 2` (30 s by default) so the revocation step's effect
// shows within the test. Long-running commands (central, simulate, gateway) run in the background and are stopped at
// the end. The specialist's view is checked where the guide sends the specialist: the dashboard over HTTPS, trusting
// only the site CA, logged in as the scoped account, sees the simulated bed and its values arrive over WSS.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';
import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { undelimit } from '../fanout/wire.js';
import { freePort } from '../lib/listen.js';
import { Batch, Flag } from '../proto/index.js';
import { CHROMIUM_ARGS, chromiumAvailable, submitLogin } from './browser.js';

const ROOT = join(import.meta.dirname, '..');
const GUIDE = join(ROOT, 'docs', 'site-guide.md');

type Machine = 'central' | 'gateway';

interface Plan {
  on: Machine;
  /** run: to the end, status 0; background: started, left running until the end, ready when `ready` is printed. */
  mode: 'run' | 'background';
  /** What the output must show (run: retried until it does, up to `retryMs`). */
  expect?: RegExp[];
  ready?: RegExp;
  retryMs?: number;
}

/** Guide steps this test does not run, and why. */
const NOT_RUN: Record<string, string> = {
  'install-node': 'apt-get needs root and the network; the test runs on the Node.js that runs it (20 or newer)',
  'install-vitalwire':
    'installs the packed release from the registry (a minute, network); CI packs and installs it; the test runs the ' +
    "checkout's compiled bin/vitalwire, put on PATH as `vitalwire`",
  'csr-to-central': 'scp between two machines: the test copies gateway.csr to the same path itself',
  'cert-to-gateway': 'scp between two machines: the test copies gateway.crt and ca.crt to the same paths itself',
  'gateway-service': 'useradd, chown and systemctl need root and systemd; the foreground run (gateway-run) is run',
  'central-service':
    'useradd, chgrp and systemctl need root and systemd; the foreground run (central-run) is run, and ' +
    'lib/atomic-file.test.ts pins that rewrites keep the group the service reads through',
  'central-compose': 'docker-compose pulls images from Docker Hub (no internet here); CI validates the file',
  upgrade: 'needs a newer release package and systemd',
};

const PLAN: Record<string, Plan> = {
  version: { on: 'central', mode: 'run', expect: [/\d+\.\d+\.\d+/] },
  'central-ca': { on: 'central', mode: 'run' },
  'central-config': { on: 'central', mode: 'run' },
  'central-users': { on: 'central', mode: 'run', expect: [/password for dr-lan \(shown once\): \S+/, /dr-lan/] },
  'central-check': { on: 'central', mode: 'run', expect: [/single node/] },
  'central-run': {
    on: 'central',
    mode: 'background',
    ready:
      /central: MQTT over TLS on 127\.0\.0\.1:\d+[\s\S]*central: dashboard https:\/\/127\.0\.0\.1:\d+\/[\s\S]*central: ready/,
  },
  'gateway-init': { on: 'gateway', mode: 'run', expect: [/certificate request/] },
  'central-sign': { on: 'central', mode: 'run' },
  'simulated-monitor': { on: 'gateway', mode: 'background', ready: /simulate: listening on/ },
  probe: { on: 'gateway', mode: 'run', expect: [/hl7/] },
  'gateway-devices': { on: 'gateway', mode: 'run' },
  'gateway-check': { on: 'gateway', mode: 'run' },
  'gateway-run': { on: 'gateway', mode: 'background' },
  'gateway-status': {
    on: 'gateway',
    mode: 'run',
    expect: [
      /uplink: connected to mqtts:\/\/127\.0\.0\.1:\d+/,
      /device mon01 \(simulated\): hl7 over tcp .*OK: frames OK/,
    ],
    retryMs: 30_000,
  },
  watch: { on: 'central', mode: 'run', expect: [/"topic":"vw\/v1\/district7\/icu\/mon01\/obs"/] },
  audit: { on: 'central', mode: 'run', expect: [/open\s+dr-lan\s+district7\/icu\/mon01\s+ICU 1/] },
  revoke: { on: 'central', mode: 'run', expect: [/revoked/i] },
  backup: { on: 'central', mode: 'run' },
};

interface Step {
  name: string;
  script: string;
}

/** The guide's marked shell blocks in order, and how many ```sh blocks it has in all. */
function parseGuide(text: string): { steps: Step[]; shBlocks: number } {
  const steps = [...text.matchAll(/<!-- site-guide: step ([a-z0-9-]+) -->\n\n```sh\n([\s\S]*?)```/g)].map((m) => ({
    name: m[1] as string,
    script: m[2] as string,
  }));
  return { steps, shBlocks: (text.match(/^```sh$/gm) ?? []).length };
}

function httpsJson(url: string, ca: string, body: unknown, origin: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: 'POST', ca, headers: { 'content-type': 'application/json', origin } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('docs/site-guide.md, run as written', () => {
  const guide = parseGuide(readFileSync(GUIDE, 'utf8'));
  let tmp: string;
  const dirs = {} as Record<Machine, string>;
  const ports = { mqtt: 0, dashboard: 0, health: 0, monitor: 0 };
  let env: NodeJS.ProcessEnv;
  let password = '';
  const background: { name: string; child: ChildProcess; out: () => string }[] = [];

  const substitute = (text: string, on: Machine): string => {
    const m = dirs[on];
    return text
      .replaceAll('/opt/vitalwire/lib/node_modules/vitalwire', ROOT)
      .replaceAll('/etc/vitalwire', `${m}/etc/vitalwire`)
      .replaceAll('/var/lib/vitalwire', `${m}/var/lib/vitalwire`)
      .replaceAll('/root/', `${m}/root/`)
      .replaceAll('central.hospital.example', '127.0.0.1')
      .replaceAll(':8883', `:${ports.mqtt}`)
      .replaceAll('4001', String(ports.monitor))
      .replaceAll('the password users add printed', password);
  };

  /** The machine differences in the files the guide copies (see the header). */
  const patchCentralYaml = async (): Promise<void> => {
    const file = `${dirs.central}/etc/vitalwire/central.yaml`;
    const text = substitute(await readFile(file, 'utf8'), 'central')
      .replace(/port: 8883\b/, `port: ${ports.mqtt}`)
      .replace(/port: 8080\b/, `port: ${ports.dashboard}`)
      .replace(/port: 9464\b/, `port: ${ports.health}`)
      .replaceAll('host: 0.0.0.0', 'host: 127.0.0.1')
      .replace(/^tls:\n/m, 'tls:\n  revocationRecheckSeconds: 2\n');
    await writeFile(file, text);
  };
  const patchGatewayYaml = async (): Promise<void> => {
    const file = `${dirs.gateway}/etc/vitalwire/gateway.yaml`;
    await writeFile(file, substitute(await readFile(file, 'utf8'), 'gateway'));
  };

  const runScript = (script: string, on: Machine) =>
    spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dirs[on], env, encoding: 'utf8', timeout: 60_000 });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'vw-site-guide-'));
    for (const m of ['central', 'gateway'] as const) {
      dirs[m] = join(tmp, m);
      await mkdir(join(dirs[m], 'root'), { recursive: true });
    }
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    const bin = join(tmp, 'bin');
    await mkdir(bin);
    await symlink(join(ROOT, 'bin', 'vitalwire'), join(bin, 'vitalwire'));
    env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, VW_LOG_LEVEL: 'info' };
  });

  afterAll(async () => {
    for (const b of background.reverse()) {
      if (b.child.exitCode !== null || b.child.signalCode !== null) continue;
      const exited = new Promise((r) => b.child.once('exit', r));
      process.kill(-(b.child.pid as number), 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (b.child.exitCode === null) process.kill(-(b.child.pid as number), 'SIGKILL');
    }
    await rm(tmp, { recursive: true, force: true });
  });

  it('every shell block of the guide is a step this test runs or lists as not run, with the reason', () => {
    expect(guide.steps.length).toBe(guide.shBlocks);
    const names = guide.steps.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...Object.keys(PLAN), ...Object.keys(NOT_RUN)].sort());
  });

  /** What the dashboard shows the specialist: login over HTTPS, the bed list and its values over WSS. */
  const dashboardShowsTheBed = async (): Promise<void> => {
    const ca = await readFile(`${dirs.central}/etc/vitalwire/pki/ca.crt`, 'utf8');
    const base = `https://127.0.0.1:${ports.dashboard}`;
    const login = await httpsJson(`${base}/api/login`, ca, { user: 'dr-lan', password }, base);
    expect(login.status, login.body).toBe(200);
    const { token, scope } = JSON.parse(login.body) as { token: string; scope: unknown };
    expect(JSON.stringify(scope)).toContain('district7');
    const ws = new WebSocket(`wss://127.0.0.1:${ports.dashboard}/ws`, ['vw.v1', `vw.token.${token}`], {
      ca,
      origin: base,
    });
    const beds: { key: string; label: string }[] = [];
    const values: number[] = [];
    let simulated = false;
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) {
        const m = JSON.parse(data.toString('utf8')) as {
          beds?: { key: string; label: string }[];
          bed?: { key: string; label: string };
        };
        for (const b of [...(m.beds ?? []), ...(m.bed ? [m.bed] : [])]) {
          beds.push(b);
          ws.send(JSON.stringify({ op: 'subscribe', bed: b.key }));
        }
        return;
      }
      for (const bytes of undelimit(data)) {
        const batch = Batch.decode(bytes);
        for (const o of batch.observations) {
          if (typeof o.number === 'number') values.push(o.number);
          // The device is configured `simulated: true` and the simulator marks its messages: the screen banners it.
          if (((o.flags ?? 0) & Flag.FLAG_SIMULATED) !== 0) simulated = true;
        }
      }
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const deadline = Date.now() + 15_000;
    while (values.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    ws.close();
    expect(beds.map((b) => b.key)).toContain('district7/icu/mon01');
    expect(values.length).toBeGreaterThan(0);
    expect(simulated).toBe(true);
  };

  /** Section 7's rows for `watch`, from the guide's own watch command with the one mistake made. */
  const checkWatchMistakes = (script: string): void => {
    const noSite = runScript(script.replace(' --site district7', ''), 'central');
    expect(noSite.status).toBe(1);
    expect(noSite.stderr).toContain(
      'vitalwire watch: the broker refused vw/v1/+/+/+/obs: an account scoped to some sites must name them (--site SITE)',
    );
    const wrongPassword = runScript(script.replace(password, `${password}x`), 'central');
    expect(wrongPassword.status).not.toBe(0);
    expect(wrongPassword.stderr).toContain('refused the user name or password (CONNACK 4)');
  };

  /** Section 8 and 7: after `revoke`, the gateway's own status says why it cannot connect. */
  const checkRevokedGatewaySaysSo = async (): Promise<void> => {
    const status = substitute('vitalwire gateway status --config /etc/vitalwire/gateway.yaml', 'gateway');
    const deadline = Date.now() + 45_000;
    let r = runScript(status, 'gateway');
    while (!/\[not-authorised\]/.test(r.stdout) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 1000));
      r = runScript(status, 'gateway');
    }
    expect(r.stdout).toMatch(/uplink: NOT CONNECTED to mqtts:\/\/127\.0\.0\.1:\d+ \[not-authorised\]: .*revoked/);
  };

  /**
   * The same in the specialist's browser: headless Chromium opens https://<central>:<port>/, logs in as dr-lan and shows
   * the bed's tile, bannered SIMULATED. Chromium trusts exactly the broker's key here (--ignore-certificate-errors-spki-list
   * with its SPKI hash), as a browser that imported ca.crt trusts the certificate; any other certificate still fails.
   */
  const browserShowsTheBed = async (): Promise<void> => {
    const pem = await readFile(`${dirs.central}/etc/vitalwire/pki/broker.crt`, 'utf8');
    const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
    const browser = await chromium.launch({
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      args: [
        ...CHROMIUM_ARGS,
        `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`,
      ],
    });
    try {
      const page = await browser.newPage();
      await submitLogin(page, `https://127.0.0.1:${ports.dashboard}/`, 'dr-lan', password);
      const tile = page.locator('.tile[data-bed="district7/icu/mon01"]');
      await tile.waitFor({ timeout: 15_000 });
      await expect.poll(() => tile.locator('.badge.mode').textContent(), { timeout: 10_000 }).toContain('SIMULATED');
      expect(await page.locator('.tile').count()).toBe(1);
    } finally {
      await browser.close();
    }
  };

  it('brings up the central side and a gateway with a simulated monitor; the specialist sees the bed', async () => {
    for (const step of guide.steps) {
      if (NOT_RUN[step.name] !== undefined) {
        // What the person does by hand between the two machines, done here with the same paths.
        if (step.name === 'csr-to-central')
          await copyFile(`${dirs.gateway}/etc/vitalwire/gateway.csr`, `${dirs.central}/root/district7-icu.csr`);
        if (step.name === 'cert-to-gateway')
          for (const f of ['gateway.crt', 'ca.crt'])
            await copyFile(
              `${dirs.central}/etc/vitalwire/gateways/district7/icu/${f}`,
              `${dirs.gateway}/etc/vitalwire/${f}`,
            );
        continue;
      }
      const plan = PLAN[step.name] as Plan;
      if (step.name === 'audit') {
        await dashboardShowsTheBed();
        // Chromium is a Debian package the README lists; without it the API check above stands alone.
        if (chromiumAvailable()) await browserShowsTheBed();
        else
          console.warn(
            'site guide: no Chromium at /usr/bin/chromium (apt-get install chromium): browser view not checked',
          );
      }
      let script = substitute(step.script, plan.on);
      if (step.name === 'revoke') {
        const list = runScript(substitute('vitalwire gateways list --pki /etc/vitalwire/pki', 'central'), 'central');
        const serial = /^district7\/icu\s+([0-9a-f]+)/im.exec(list.stdout)?.[1];
        expect(serial, list.stdout).toBeDefined();
        script = script.replaceAll('SERIAL-FROM-THE-LIST', serial as string);
      }
      if (plan.mode === 'background') {
        const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
          cwd: dirs[plan.on],
          env,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
        background.push({ name: step.name, child, out: () => out });
        const deadline = Date.now() + 25_000;
        while (plan.ready && !plan.ready.test(out) && child.exitCode === null && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        expect(child.exitCode, `${step.name}: ${out}`).toBeNull();
        if (plan.ready) expect(out, step.name).toMatch(plan.ready);
        continue;
      }
      const deadline = Date.now() + (plan.retryMs ?? 0);
      let r = runScript(script, plan.on);
      const shows = (): boolean => (plan.expect ?? []).every((re) => re.test(r.stdout + r.stderr));
      while ((r.status !== 0 || !shows()) && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 1000));
        r = runScript(script, plan.on);
      }
      expect(r.status, `${step.name}:\n${script}\n${r.stdout}${r.stderr}`).toBe(0);
      for (const re of plan.expect ?? []) expect(r.stdout + r.stderr, step.name).toMatch(re);
      if (step.name === 'watch') checkWatchMistakes(script);
      if (step.name === 'revoke') await checkRevokedGatewaySaysSo();
      if (step.name === 'central-users')
        password = /password for dr-lan \(shown once\): (\S+)/.exec(r.stdout)?.[1] ?? '';
      if (step.name === 'central-config') await patchCentralYaml();
      if (step.name === 'gateway-init') await patchGatewayYaml();
    }
  }, 180_000);
});
