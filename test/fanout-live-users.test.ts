// Issue 14 findings 6 and 10: a user removed from the users file kept streaming until the token expired, a narrowed
// scope kept its beds, and a token signed with the server's key opened a WebSocket for a user that does not exist.
// The users file is real (written as `vitalwire users` writes it, read by the broker's file store), and so are the
// broker, the fan-out and the sockets.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openUsersFile, writeUsersFile } from '../broker/users-file.js';
import { hashPassword, type User } from '../broker/users.js';
import { hr, publish, startRig, type FanoutRig } from './fanout-kit.js';
import { connectWs, login, waitFor, wsUrl } from './ws-client.js';

const RECHECK_MS = 300;

describe('live sessions follow the users file', () => {
  let rig: FanoutRig;
  let file: string;
  let doc: User;
  let nurse: User;

  beforeAll(async () => {
    file = join(mkdtempSync(join(tmpdir(), 'vw-users-')), 'users.yaml');
    doc = { name: 'doc', role: 'observer', sites: ['*'], hash: await hashPassword('pw-doc') };
    nurse = { name: 'nurse', role: 'observer', sites: ['site1'], hash: await hashPassword('pw-nurse') };
    await writeUsersFile(file, [doc, nurse]);
    const users = await openUsersFile(file);
    rig = await startRig({ limits: { userRecheckMs: RECHECK_MS, http: { upgradeTimeoutMs: 800 } } }, { users });
    await publish(rig.gw, 'bed01', 'obs', 1, hr(71));
    await publish(rig.gw, 'bed02', 'obs', 1, hr(72));
    await waitFor(() => rig.fanout.counters.messagesIn >= 2, 5000, 'two Batches in');
  });
  afterAll(async () => {
    await rig?.close();
    rmSync(dirname(file), { recursive: true, force: true });
  });

  it("closes a removed user's sockets within the recheck interval (4003), and refuses their token after", async () => {
    const token = await login(rig.fanout.url, 'doc', 'pw-doc');
    const s = await connectWs(rig.fanout.url, token);
    await waitFor(() => s.received.length >= 2, 5000, 'both beds');
    const closed = new Promise<{ code: number; at: number }>((resolve) =>
      s.ws.once('close', (code) => resolve({ code, at: Date.now() })),
    );
    const removedAt = Date.now();
    await writeUsersFile(file, [nurse]);
    const { code, at } = await closed;
    expect(code).toBe(4003);
    // The file is checked every RECHECK_MS; its mtime must differ from the last read (at most one more interval).
    expect(at - removedAt).toBeLessThan(RECHECK_MS * 4 + 1000);
    expect(rig.fanout.counters.usersRemoved).toBe(1);
    // The token is genuine and unexpired, but its user is gone: no new socket, no renewal.
    await expect(connectWs(rig.fanout.url, token, undefined, { subscribe: false })).rejects.toThrow(
      /403 VW_ERR_WS_AUTH/,
    );
    const renewal = await fetch(new URL('/api/session', rig.fanout.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(renewal.status).toBe(401);
    // Its beds were closed in the audit.
    expect(
      rig.audit.entries
        .filter((e) => e.user === 'doc' && e.event === 'close')
        .map((e) => e.device)
        .sort(),
    ).toEqual(['bed01', 'bed02']);
  });

  it('drops the beds outside a narrowed scope from a live socket, and lists only what is left', async () => {
    const token = await login(rig.fanout.url, 'nurse', 'pw-nurse');
    const s = await connectWs(rig.fanout.url, token);
    await waitFor(() => s.received.some((r) => r.batch.source?.device === 'bed02'), 5000, 'bed02 history');
    await writeUsersFile(file, [{ ...nurse, sites: ['site1/gw1/bed01'] }]);
    const refused = await waitFor(
      () => s.control.find((m) => m.type === 'refused'),
      RECHECK_MS * 4 + 2000,
      'bed02 refused',
    );
    expect(refused).toMatchObject({ bed: 'site1/gw1/bed02', code: 'VW_ERR_WS_SCOPE' });
    const list = s.control.filter((m) => m.type === 'beds').at(-1);
    expect(list?.type === 'beds' && list.beds.map((b) => b.key)).toEqual(['site1/gw1/bed01']);
    // bed02's data no longer reaches this socket; bed01's does, on the same connection.
    const before = s.received.length;
    await publish(rig.gw, 'bed02', 'obs', 2, hr(90));
    await publish(rig.gw, 'bed01', 'obs', 2, hr(80));
    await waitFor(() => s.received.slice(before).some((r) => r.batch.source?.device === 'bed01'), 5000, 'bed01 live');
    expect(s.received.slice(before).map((r) => r.batch.source?.device)).toEqual(['bed01']);
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    // Widened again in the file: the socket gets back what its token granted (site1), never more.
    await writeUsersFile(file, [{ ...nurse, sites: ['*'] }]);
    const relisted = await waitFor(
      () => {
        const l = s.control.filter((m) => m.type === 'beds').at(-1);
        return l?.type === 'beds' && l.beds.length === 2 && l;
      },
      RECHECK_MS * 4 + 2000,
      'bed02 listed again',
    );
    expect(relisted.beds.map((b) => b.key).sort()).toEqual(['site1/gw1/bed01', 'site1/gw1/bed02']);
    s.ws.close();
  });

  it('refuses a token signed with the server key for a user that does not exist', async () => {
    const ghost = (await rig.fanout.sessions.issue({ name: 'ghost', role: 'admin', sites: ['*'] })).token;
    await expect(connectWs(rig.fanout.url, ghost, undefined, { subscribe: false })).rejects.toThrow(
      /403 VW_ERR_WS_AUTH/,
    );
  });

  it('destroys an upgrade whose checks do not finish in time (a users file that hangs on read)', async () => {
    // The users file replaced by a FIFO: reading it blocks until a writer comes, as a hung network share would.
    const fifo = `${file}.fifo`;
    execFileSync('mkfifo', [fifo]);
    renameSync(fifo, file);
    const token = (await rig.fanout.sessions.issue({ name: 'nurse', role: 'observer', sites: ['site1'] })).token;
    const before = rig.fanout.counters.upgradeTimeouts;
    const t0 = Date.now();
    const ws = new WebSocket(wsUrl(rig.fanout.url), ['vw.v1', `vw.token.${token}`]);
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('error', (err) => resolve(`error ${err.message}`));
    });
    expect(outcome).toMatch(/^error/);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(rig.fanout.counters.upgradeTimeouts).toBe(before + 1);
    // Let the blocked read finish with a valid file, so nothing stays blocked after the test (non-blocking: a FIFO
    // opened for writing before its reader would block this thread).
    const fd = await waitFor(
      () => {
        try {
          return openSync(file, constants.O_WRONLY | constants.O_NONBLOCK);
        } catch {
          return false;
        }
      },
      5000,
      'the reader of the FIFO',
    );
    writeSync(fd, 'users: []\n');
    closeSync(fd);
  });
});
