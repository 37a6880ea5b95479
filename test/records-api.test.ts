// The clinical record over HTTP, on a real central (TLS broker, archive in its loader process, fan-out): a gateway
// publishes numerics over MQTT, a nurse binds the monitor to a patient, and then
// - a record system (a `service` user) searches GET /fhir/Observation and /fhir/Device with its session token and
//   gets R4 searchset Bundles with the published values; an observer is refused (403), no token is 401;
// - the dashboard's trend endpoint gives a bed's last hour with the hole left empty, within the user's scope.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, CapabilityStatement, Observation } from '@medplum/fhirtypes';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setBinding } from '../archive/bindings.js';
import { openAudit } from '../archive/config.js';
import { validateR4 } from '../archive/export/fhir-validate.js';
import { vitalsBatch } from '../archive/test-kit.js';
import { Clients, makeTestPki, testUsers } from '../broker/test-kit.js';
import { createUserStore, hashPassword, type UserStore } from '../broker/users.js';
import { archiveConfigOf, startCentral, type Central } from '../central/central.js';
import { centralConfig } from '../central/config.js';
import type { TrendResponse } from '../fanout/trend-api.js';
import { silentLogger } from '../lib/log.js';

const MIN = 60_000_000;
let dir = '';
let central: Central;
let clients: Clients;
let gw: MqttClient;
let base = '';
let users: UserStore;
const NOW = Date.now() * 1000;
const dev = { site: 'site1', gateway: 'gw1', device: 'mon1' };

async function login(user: string): Promise<string> {
  const r = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password: `pw-${user}` }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

const get = (path: string, token?: string): Promise<Response> =>
  fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-records-'));
  const pki = await makeTestPki(join(dir, 'pki'));
  const config = centralConfig(
    {
      listen: { host: '127.0.0.1', port: 0 },
      tls: pki.brokerFiles,
      fanout: { host: '127.0.0.1', port: 0 },
      archive: { dataDir: 'archive', loader: { intervalMs: 50 }, fhir: { patientSystem: 'urn:oid:1.2.840.1' } },
    },
    'records test',
  );
  users = createUserStore(await testUsers());
  central = await startCentral({ config, baseDir: dir, logger: silentLogger(), parts: { users, assets: new Map() } });
  base = (central.fanout?.url ?? '').replace(/\/$/, '');
  clients = new Clients(pki.caPem, `mqtts://127.0.0.1:${central.broker.port}`);
  gw = await clients.gateway(pki.site1gw1, 'site1/gw1');
  // The last hour, a reading a minute, none from 20 to 35 minutes ago (the monitor was unplugged).
  let seq = 1;
  for (let m = 59; m >= 0; m--) {
    if (m >= 20 && m < 35) continue;
    const p = vitalsBatch(dev, seq++, NOW - m * MIN, { hr: 70 + (m % 7), spo2: 97 });
    await gw.publishAsync(p.topic, p.payload, { qos: 1 });
  }
  await central.archive?.flush();
  // The monitor is bound to the patient, as `vitalwire bind --data-dir` does.
  const cfg = archiveConfigOf(central.config, dir);
  if (!cfg) throw new Error('archive config');
  const audit = await openAudit(cfg, silentLogger());
  await setBinding(audit.audit, 'nurse1', { ...dev, bed: 'ICU-3', patient: 'MRN-000123', fromUs: NOW - 2 * 60 * MIN });
  await audit.close();
});

afterAll(async () => {
  await clients?.endAll();
  await central?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('FHIR API on the central', () => {
  it("answers a record system's search with an R4 searchset of the published values", async () => {
    const token = await login('svc');
    const from = new Date((NOW - 60 * MIN) / 1000).toISOString();
    const r = await get(
      `/fhir/Observation?patient=MRN-000123&code=http://loinc.org|8867-4&date=ge${from}&_count=1000`,
      token,
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const b = (await r.json()) as Bundle;
    expect(validateR4(b)).toEqual([]);
    const obs = (b.entry ?? []).map((e) => e.resource as Observation);
    for (const o of obs) expect(validateR4(o)).toEqual([]);
    const expected = Array.from({ length: 60 }, (_, i) => 59 - i)
      .filter((m) => m < 20 || m >= 35)
      .map((m) => 70 + (m % 7));
    expect(obs.map((o) => o.valueQuantity?.value)).toEqual(expected);
    expect(obs[0]?.subject?.identifier).toEqual({ system: 'urn:oid:1.2.840.1', value: 'MRN-000123' });
    expect(b.entry?.[0]?.fullUrl).toBe(`${base}/fhir/Observation/${obs[0]?.id}`);

    const d = (await (await get('/fhir/Device?patient=MRN-000123', token)).json()) as Bundle;
    expect(validateR4(d)).toEqual([]);
    expect(d.entry?.map((e) => (e.resource as { identifier: { value: string }[] }).identifier[0]?.value)).toEqual([
      'site1/gw1/mon1',
    ]);

    // A record system resolves each Observation's device reference with a read against the same base.
    const ref = obs[0]?.device?.reference ?? '';
    expect(ref).toMatch(/^Device\/[0-9a-f]+$/);
    const read = await get(`/fhir/${ref}`, token);
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const dev = (await read.json()) as { resourceType: string; id: string };
    expect(validateR4(dev as never)).toEqual([]);
    expect(dev).toEqual(d.entry?.[0]?.resource);
    expect(`Device/${dev.id}`).toBe(ref);
    const unknown = await get('/fhir/Device/0000', token);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { issue: { code: string }[] }).issue[0]?.code).toBe('not-found');
    // A user of another site reads the device as not found: its existence is not theirs to learn.
    users.add({ ...users.get('admin1')!, name: 'admin2', sites: ['site2'], hash: await hashPassword('pw-admin2') });
    expect((await get(`/fhir/${ref}`, await login('admin1'))).status).toBe(200);
    expect((await get(`/fhir/${ref}`, await login('admin2'))).status).toBe(404);
    users.remove('admin2');
    expect((await get(`/fhir/Observation/${obs[0]?.id}`, token)).status).toBe(404); // searched, not read: says so
    expect((await get(`/fhir/${ref}?_count=1`, token)).status).toBe(400);
    expect((await get(`/fhir/Device/%E0%A4%A`, token)).status).toBe(400);

    // Or all at once: the page's devices included after its Observations, each once, outside the total.
    const inc = (await (
      await get(`/fhir/Observation?patient=MRN-000123&code=8867-4&_count=10&_include=Observation:device`, token)
    ).json()) as Bundle;
    expect(validateR4(inc)).toEqual([]);
    expect(inc.entry?.filter((e) => e.search?.mode === 'match')).toHaveLength(10);
    const included = inc.entry?.filter((e) => e.search?.mode === 'include') ?? [];
    expect(included.map((e) => e.resource)).toEqual([dev]);
    expect(included[0]?.fullUrl).toBe(`${base}/fhir/${ref}`);
    expect((await get(`/fhir/Observation?patient=MRN-000123&_include=Observation:subject`, token)).status).toBe(400);

    const meta = (await (await get('/fhir/metadata')).json()) as CapabilityStatement;
    expect(validateR4(meta)).toEqual([]);
    expect(meta.rest?.[0]?.resource?.[0]?.searchInclude).toEqual(['Observation:device']);
    expect(meta.rest?.[0]?.resource?.[1]?.interaction?.map((i) => i.code)).toEqual(['read', 'search-type']);
    expect(meta.rest?.[0]?.resource?.map((x) => x.type)).toEqual(['Observation', 'Device']);
    // The software a record system sees is the version installed, read from package.json (not a literal in the code).
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(meta.software).toEqual({ name: 'vitalwire', version: pkg.version });
  });

  it('wants a session token, a role that may read records, and a supported search', async () => {
    const none = await get('/fhir/Observation?patient=MRN-000123');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await get('/fhir/Observation?patient=MRN-000123', 'not-a-token')).status).toBe(401);
    // An observer watches beds; patient records are for record systems (service) and admins.
    expect((await get('/fhir/Observation?patient=MRN-000123', await login('obs1'))).status).toBe(403);
    const svc = await login('svc');
    expect((await get('/fhir/Observation?patinet=MRN-000123', svc)).status).toBe(400);
    expect((await get('/fhir/Patient?identifier=MRN-000123', svc)).status).toBe(404);
    // admin1 may read records of site1 only: the same search from a site2 admin would be empty (scope.ts).
    const admin = await login('admin1');
    const b = (await (await get('/fhir/Observation?patient=MRN-000123&code=8867-4&_count=5', admin)).json()) as Bundle;
    expect(b.entry).toHaveLength(5);
    expect(b.link?.find((l) => l.relation === 'next')?.url).toMatch(/_offset=5/);
  });

  it('refuses the token of a user removed since login, and reads a changed role from the users store (issue 14 finding 6)', async () => {
    const token = await login('svc');
    const path = '/fhir/Observation?patient=MRN-000123&code=8867-4&_count=1';
    expect((await get(path, token)).status).toBe(200);
    const svc = users.get('svc')!;
    users.add({ ...svc, role: 'observer' });
    expect((await get(path, token)).status).toBe(403);
    users.remove('svc');
    expect((await get(path, token)).status).toBe(401);
    expect((await get('/api/trend?bed=site1/gw1/mon1&hours=1', token)).status).toBe(401);
    users.add(svc);
  });

  it('audits every search, with who asked', async () => {
    const cfg = archiveConfigOf(central.config, dir);
    if (!cfg) throw new Error('archive config');
    const audit = await openAudit(cfg, silentLogger());
    const reads = await audit.audit.list(['record.read']);
    await audit.close();
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads.map((e) => e.actor)).toContain('svc');
    expect(reads.find((e) => e.subject === 'Device')?.after).toMatchObject({
      query: 'patient=MRN-000123',
      resources: 1,
    });
  });
});

describe('trend endpoint', () => {
  it("gives a bed's last hour in buckets, the hole empty, within the user's scope", async () => {
    const r = await get('/api/trend?bed=site1/gw1/mon1&hours=1', await login('obs1'));
    expect(r.status).toBe(200);
    const t = (await r.json()) as TrendResponse;
    expect(t.bucketMs).toBe(10_000);
    const hr = t.series.find((s) => s.mdc === 147842);
    expect(hr?.unit).toBe('/min');
    const points = hr?.points ?? [];
    expect(points).toHaveLength(360);
    // Every bucket of the unplugged quarter hour is empty, never joined.
    const inHole = points.filter((_, i) => {
      const at = t.fromMs + i * t.bucketMs;
      return at >= (NOW - 35 * MIN) / 1000 + 10_000 && at < (NOW - 20 * MIN) / 1000 - 10_000;
    });
    expect(inHole.length).toBeGreaterThan(80);
    expect(inHole.every((p) => p === null)).toBe(true);
    const filled = points.filter((p) => p !== null);
    expect(filled).toHaveLength(45);
    expect(filled.every((p) => p !== null && p[3] >= 70 && p[3] <= 76)).toBe(true);
    // Out of scope looks like nothing there; no token is 401; a span the view does not offer is refused.
    const site2 = await get('/api/trend?bed=site2/gw1/mon1&hours=1', await login('obs1'));
    expect(site2.status).toBe(404);
    expect((await get('/api/trend?bed=site1/gw1/mon1&hours=1')).status).toBe(401);
    expect((await get('/api/trend?bed=site1/gw1/mon1&hours=5', await login('obs1'))).status).toBe(400);
  });
});
