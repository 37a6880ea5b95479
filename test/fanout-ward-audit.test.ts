// The ward view's audit entry names the beds it showed (docs/clinical-safety.md A1: `vitalwire audit --bed X` found no
// ward view). Real broker, fan-out and sockets; the entries are queried the way `vitalwire audit --bed` queries them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesAudit } from '../fanout/audit.js';
import { hr, publish, startRig, type FanoutRig } from './fanout-kit.js';
import { connectWs, waitFor } from './ws-client.js';

describe('the ward view in the access audit', () => {
  let rig: FanoutRig;
  const BEDS = ['site1/gw1/bed01', 'site1/gw1/bed02', 'site1/gw1/bed03'];

  beforeAll(async () => {
    rig = await startRig();
    for (const [i, key] of BEDS.entries()) await publish(rig.gw, key.split('/')[2]!, 'obs', 1, hr(70 + i));
    await waitFor(() => rig.fanout.counters.messagesIn >= 3, 5000, 'three Batches in');
  });
  afterAll(() => rig?.close());

  it('writes one entry for the tiles of a page, naming each bed, and the close names them too', async () => {
    const token = (await rig.fanout.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;
    const s = await connectWs(rig.fanout.url, token, undefined, { subscribe: BEDS, backfill: { obsLatest: true } });
    await waitFor(() => s.control.filter((m) => m.type === 'subscribed').length === 3, 5000, 'three tiles');
    const open = await waitFor(
      () => rig.audit.entries.find((e) => e.user === 'obsall' && e.event === 'open' && e.bed === 'ward view'),
      2000,
      'the ward entry',
    );
    await new Promise((r) => setTimeout(r, 300)); // nothing more comes for this burst
    const opens = rig.audit.entries.filter((e) => e.user === 'obsall' && e.event === 'open');
    expect(opens).toHaveLength(1);
    expect([...(open.beds ?? [])].sort()).toEqual(BEDS);
    // `vitalwire audit --bed site1/gw1/bed02` finds it.
    expect(opens.filter((e) => matchesAudit(e, { bed: 'site1/gw1/bed02' }))).toHaveLength(1);
    for (const bed of BEDS) s.ws.send(JSON.stringify({ op: 'unsubscribe', bed }));
    const close = await waitFor(
      () => rig.audit.entries.find((e) => e.user === 'obsall' && e.event === 'close'),
      5000,
      'the ward closed',
    );
    expect([...(close.beds ?? [])].sort()).toEqual(BEDS);
    expect(rig.audit.entries.filter((e) => e.user === 'obsall' && e.event === 'close')).toHaveLength(1);
    s.ws.close();
  });
});
