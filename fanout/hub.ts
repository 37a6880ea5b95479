// The fan-out hub: routes each Batch the broker delivers to the clients subscribed to its stream, keeps the
// backfill rings, and runs each client's queue. No HTTP here (server.ts owns sockets and sessions).
//
// One published Batch costs: a header peek, one delimited copy (shared by the ring and every client), one ring
// append, and one queue push per subscriber. Queues flush once per event-loop turn (setImmediate), so the Batches
// a client gets in one turn leave in one ws message. A client whose socket holds sendThresholdBytes or more is
// not written to until it drains; its queue applies the slow-client policy (client-queue.ts) meanwhile.
import type { WebSocket } from 'ws';
import type { Logger } from '../lib/log.js';
import { parseStreamTopic } from '../lib/topics.js';
import type { AuditLog } from './audit.js';
import { WardAudit, WARD_AUDIT_COALESCE_MS } from './ward-audit.js';
import { ClientQueue, type QueueLimits } from './client-queue.js';
import { createDenialAudit, type DenialAudit } from './denial-audit.js';
import { plainPeerLog, type PeerLog } from './peer-log.js';
import { BedRegistry, type BedLimits } from './beds.js';
import { backfillWindows, lastSeq, selectHistory, type Windows } from './history.js';
import {
  CLOSE,
  STREAMS,
  parseBedKey,
  type BackfillRequest,
  type BackfillSummary,
  type BedInfo,
  type ServerMessage,
  type StreamName,
} from './protocol.js';
import type { SharedBackfill } from './redis-backfill.js';
import { RingStore, type RingLimits, type StreamItem } from './ring.js';
import { bedInScope, bedKeyInScope, sameScope, type Scope } from './scope.js';
import type { Session } from './session.js';
import { delimit, obsShape, peekBatch } from './wire.js';

export interface HubLimits {
  queue: QueueLimits;
  /** A client's socket holding this many bytes or more is not written to until it drains. */
  sendThresholdBytes: number;
  /** A client that stays at or above sendThresholdBytes this long is closed (VW_ERR_WS_SLOW_CLIENT). */
  stuckMs: number;
  maxBedsPerClient: number;
  /** Devices admitted per gateway, per site and in all, and how long a silent one stays listed (beds.ts). */
  beds: BedLimits;
  /** Server-side caps on the history one subscription gets. */
  backfill: { waveMs: number; obsMs: number; alarmMs: number; statusItems: number; trendBytes: number };
}

export interface HubCounters {
  messagesIn: number;
  badPayloads: number;
  duplicates: number;
  delivered: number;
  subscriptions: number;
  refusedSubscriptions: number;
  slowClosed: number;
  coalesced: number;
  droppedWaves: number;
  gaps: number;
  /** Batches of new devices refused because their gateway or site had its quota of devices (VW_ERR_FANOUT_BED_LIMIT). */
  bedsRefused: number;
  /** Devices forgotten after bedExpiryMs without a Batch. */
  bedsExpired: number;
}

export class HubClient {
  readonly queue: ClientQueue;
  readonly beds = new Map<string, Set<StreamName>>();
  /** Streams whose backfill is being read from Redis: live Batches wait here meanwhile. */
  readonly holding = new Map<string, StreamItem[]>();
  /** Ward tiles (obsLatest subscriptions): audited as the ward view, not one by one. */
  readonly ward = new WardAudit();
  congestedSince = 0;
  closed = false;
  /** What the session's token granted; `session.scope` is that narrowed to the user's sites as they are now. */
  granted: Scope;
  constructor(
    readonly ws: WebSocket,
    public session: Session,
    readonly remote: string,
    limits: QueueLimits,
    granted: Scope = session.scope,
  ) {
    this.queue = new ClientQueue(limits);
    this.granted = granted;
  }
}

export interface HubOptions {
  limits: HubLimits;
  ring: RingLimits;
  audit: AuditLog;
  logger: Logger;
  shared?: SharedBackfill | undefined;
  /** Batches published to this broker are the ones this fan-out writes to the shared backfill. */
  brokerId?: string;
  /** Refused subscriptions go to the audit through this (aggregated per user and window); one over `audit` when absent. */
  denials?: DenialAudit;
  /** Peer-triggered log lines (rate-limited); the plain logger when absent. */
  peerLog?: PeerLog;
  now?: () => number;
}

const DEFAULT_STREAMS: readonly StreamName[] = STREAMS;
export { WARD_AUDIT_BED } from './ward-audit.js';
/** How long a HOLD of live data may grow while Redis answers (Batches); beyond, the hold is given up. */
const MAX_HOLD = 4096;

export class Hub {
  readonly ring: RingStore;
  readonly clients = new Set<HubClient>();
  readonly counters: HubCounters = {
    messagesIn: 0,
    badPayloads: 0,
    duplicates: 0,
    delivered: 0,
    subscriptions: 0,
    refusedSubscriptions: 0,
    slowClosed: 0,
    coalesced: 0,
    droppedWaves: 0,
    gaps: 0,
    bedsRefused: 0,
    bedsExpired: 0,
  };
  private readonly sentByKind: Record<StreamName | 'gap', number> = { obs: 0, wave: 0, alarm: 0, status: 0, gap: 0 };
  private readonly subs = new Map<string, Set<HubClient>>();
  private readonly topics = new Map<
    string,
    { stream: string; bed: string; kind: StreamName; site: string; gateway: string; device: string }
  >();
  private readonly beds: BedRegistry;
  private readonly dirty = new Set<HubClient>();
  private readonly congested = new Set<HubClient>();
  private flushScheduled = false;
  private readonly startedAt: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly peerLog: PeerLog;
  private readonly denials: DenialAudit;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: HubOptions) {
    this.now = o.now ?? Date.now;
    this.startedAt = this.now();
    this.ring = new RingStore(o.ring);
    this.beds = new BedRegistry(o.limits.beds);
    this.log = o.logger;
    this.peerLog = o.peerLog ?? plainPeerLog(o.logger);
    this.denials = o.denials ?? createDenialAudit(o.audit, undefined, this.now);
    this.timer = setInterval(() => this.checkCongested(), 50);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Ingest

  /** One MQTT message from the broker. The payload is the gateway's Batch; it is not decoded. */
  publish(topic: string, payload: Buffer, fromBrokerId?: string): void {
    this.counters.messagesIn++;
    let t = this.topics.get(topic);
    if (t === undefined) {
      const p = parseStreamTopic(topic);
      if (p === null) return; // commands and anything else under vw/v1 are not dashboard streams
      const bed = `${p.site}/${p.gateway}/${p.device}`;
      t = { stream: `${bed}/${p.kind}`, bed, kind: p.kind, site: p.site, gateway: p.gateway, device: p.device };
      if (this.topics.size < this.o.ring.maxStreams) this.topics.set(topic, t);
    }
    const h = peekBatch(payload);
    if (h === null) {
      this.counters.badPayloads++;
      return;
    }
    const now = this.now();
    // A device beyond its gateway's or site's quota is refused whole: one gateway cannot crowd out the beds of others.
    const admission = this.beds.admit(t, now);
    if (admission === 'quota') {
      this.counters.bedsRefused++;
      this.peerLog.warn(
        'bed_refused',
        { code: 'VW_ERR_FANOUT_BED_LIMIT', site: t.site, gateway: t.gateway, device: t.device },
        'device over its gateway or site quota: not listed, kept or delivered',
      );
      return;
    }
    const item: StreamItem = {
      stream: t.stream,
      bed: t.bed,
      kind: t.kind,
      seq: h.seq,
      atMs: now,
      publishTimeUs: h.publishTimeUs,
      bytes: delimit(payload),
      ...(t.kind === 'obs' ? { shape: obsShape(payload) } : {}),
      ...(h.backfill ? { backfill: true } : {}),
    };
    if (this.ring.append(item, now) === 'duplicate') {
      this.counters.duplicates++;
      return;
    }
    this.noteBed(t, payload, h, admission === 'new');
    if (this.o.shared && fromBrokerId !== undefined && fromBrokerId === this.o.brokerId) this.o.shared.append(item);
    const subs = this.subs.get(t.stream);
    if (subs === undefined) return;
    for (const c of subs) this.deliver(c, item);
  }

  private noteBed(
    t: { bed: string; site: string; gateway: string; device: string },
    payload: Buffer,
    h: ReturnType<typeof peekBatch> & object,
    isNew: boolean,
  ): void {
    const bed = this.beds.note(t, payload, h, isNew);
    if (bed === null) return;
    for (const c of this.clients) {
      if (bedInScope(c.session.scope, t.site, t.gateway, t.device)) this.sendText(c, { type: 'bed', bed });
    }
  }

  /** Forgets devices silent for bedExpiryMs; the sessions that saw one get their bed list again. */
  expireBeds(): void {
    const gone = this.beds.expire(this.now());
    if (gone.length === 0) return;
    this.counters.bedsExpired += gone.length;
    const keys = new Set(gone.map((b) => b.key));
    for (const [topic, t] of this.topics) if (keys.has(t.bed)) this.topics.delete(topic);
    for (const c of this.clients) {
      if (gone.some((b) => bedInScope(c.session.scope, b.site, b.gateway, b.device)))
        this.sendText(c, { type: 'beds', beds: this.bedsFor(c) });
    }
  }

  private deliver(c: HubClient, item: StreamItem): void {
    if (c.closed) return;
    const hold = c.holding.get(item.stream);
    if (hold !== undefined) {
      if (hold.length < MAX_HOLD) hold.push(item);
      return;
    }
    if (c.queue.pushData(item, c.ws.bufferedAmount) === 'overflow') {
      this.closeSlow(c, 'alarm backlog over maxAlarmBacklogBytes');
      return;
    }
    this.markDirty(c);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Clients

  /** Registers a client and greets it with its identity and the beds it may open. */
  addClient(c: HubClient): void {
    this.clients.add(c);
    const s = c.session;
    this.sendText(c, {
      type: 'hello',
      user: s.user,
      role: s.role,
      scope: [...s.scope.entries],
      expiresAt: s.expiresAt,
      serverTimeMs: this.now(),
      maxBeds: this.o.limits.maxBedsPerClient,
    });
    this.sendText(c, { type: 'beds', beds: this.bedsFor(c) });
  }

  removeClient(c: HubClient): void {
    if (!this.clients.delete(c)) return;
    c.closed = true;
    this.harvest(c);
    for (const bed of [...c.beds.keys()]) this.dropBed(c, bed, false);
    this.dirty.delete(c);
    this.congested.delete(c);
  }

  bedsFor(c: HubClient): BedInfo[] {
    return this.beds.list((b) => bedInScope(c.session.scope, b.site, b.gateway, b.device));
  }

  sendText(c: HubClient, m: ServerMessage): void {
    if (c.closed) return;
    if (c.queue.pushText(JSON.stringify(m), c.ws.bufferedAmount) === 'overflow') {
      this.closeSlow(c, 'control backlog over maxAlarmBacklogBytes');
      return;
    }
    this.markDirty(c);
  }

  /** A new session for the same user (renewal): beds now outside its scope are closed and reported. */
  renew(c: HubClient, s: Session, granted: Scope = s.scope): void {
    c.granted = granted;
    this.rescope(c, s);
    this.sendText(c, { type: 'renewed', expiresAt: s.expiresAt });
  }

  /**
   * The session's scope changed (a renewal, or the users store narrowed the user's sites): beds now outside it are
   * closed and reported, and the bed list is sent again (the page shows exactly that list).
   */
  rescope(c: HubClient, s: Session): void {
    const changed = !sameScope(c.session.scope, s.scope);
    c.session = s;
    if (!changed) return;
    for (const bed of [...c.beds.keys()]) {
      if (!bedKeyInScope(s.scope, bed)) {
        this.dropBed(c, bed, true);
        this.sendText(c, { type: 'refused', bed, code: 'VW_ERR_WS_SCOPE', reason: 'no longer in your scope' });
      }
    }
    this.sendText(c, { type: 'beds', beds: this.bedsFor(c) });
  }

  subscribe(
    c: HubClient,
    bed: string,
    streamsIn: readonly StreamName[] | undefined,
    req: BackfillRequest | undefined,
  ): void {
    const b = parseBedKey(bed);
    if (b === null) {
      this.sendText(c, {
        type: 'refused',
        bed: String(bed).slice(0, 200),
        code: 'VW_ERR_WS_BAD_REQUEST',
        reason: 'bed must be site/gateway/device',
      });
      return;
    }
    const refuse = (code: string, reason: string): void => {
      this.counters.refusedSubscriptions++;
      this.sendText(c, { type: 'refused', bed, code, reason });
    };
    if (!bedInScope(c.session.scope, b.site, b.gateway, b.device)) {
      this.denials.deny({ user: c.session.user, ...b, remote: c.remote, session: c.session.id });
      this.peerLog.warn(
        'subscribe_refused',
        { user: c.session.user, bed, code: 'VW_ERR_WS_SCOPE' },
        'bed outside the session scope',
      );
      refuse('VW_ERR_WS_SCOPE', 'you are not granted this bed');
      return;
    }
    const current = c.beds.get(bed);
    if (current === undefined && c.beds.size >= this.o.limits.maxBedsPerClient) {
      refuse('VW_ERR_WS_BAD_REQUEST', `at most ${this.o.limits.maxBedsPerClient} beds per connection`);
      return;
    }
    // A ward tile (newest numerics only, BackfillRequest.obsLatest) is part of the ward view: the tiles a page
    // subscribes in one burst are audited as one 'open' entry of the ward view naming them (`beds`), written
    // WARD_AUDIT_COALESCE_MS after the first. Any other subscription, or a tile becoming a bed view, is audited bed by bed.
    const tile = req?.obsLatest === true;
    if (current === undefined && tile) {
      if (!this.o.audit.available) {
        refuse('VW_ERR_AUDIT_UNAVAILABLE', 'the access audit log cannot be written; try again later');
        return;
      }
      if (c.ward.add(bed)) setTimeout(() => this.writeWardOpen(c), WARD_AUDIT_COALESCE_MS).unref();
    } else if (current === undefined || (!tile && c.ward.tiles.has(bed))) {
      const label = this.beds.label(bed);
      const entry = {
        event: 'open' as const,
        user: c.session.user,
        ...b,
        ...(label ? { bed: label } : {}),
        remote: c.remote,
        session: c.session.id,
      };
      if (!this.o.audit.append(entry)) {
        refuse('VW_ERR_AUDIT_UNAVAILABLE', 'the access audit log cannot be written; try again later');
        return;
      }
      c.ward.tiles.delete(bed);
    }
    const streams = (streamsIn ?? DEFAULT_STREAMS).filter((s, i, a) => STREAMS.includes(s) && a.indexOf(s) === i);
    const set = current ?? new Set<StreamName>();
    c.beds.set(bed, set);
    const added = streams.filter((s) => !set.has(s));
    for (const s of added) {
      set.add(s);
      const key = `${bed}/${s}`;
      let subs = this.subs.get(key);
      if (!subs) {
        subs = new Set();
        this.subs.set(key, subs);
      }
      subs.add(c);
    }
    this.counters.subscriptions++;
    const now = this.now();
    const windows = backfillWindows(req, this.o.limits.backfill);
    // Memory covers a window once this fan-out has run that long; a younger one asks the shared store.
    const fromShared = this.o.shared ? added.filter((s) => s !== 'status' && now - this.startedAt < windows[s]) : [];
    if (fromShared.length === 0) {
      const summaries: Partial<Record<StreamName, BackfillSummary>> = {};
      const items: StreamItem[][] = [];
      for (const s of added) {
        const sel = this.history(`${bed}/${s}`, s, now, windows, []);
        summaries[s] = { items: sel.items.length, stride: sel.stride, toSeq: lastSeq(sel.items) };
        items.push(sel.items);
      }
      this.sendText(c, { type: 'subscribed', bed, streams: [...set], backfill: summaries });
      for (const list of items) for (const it of list) this.deliver(c, it);
      return;
    }
    for (const s of fromShared) c.holding.set(`${bed}/${s}`, []);
    const shared = this.o.shared as SharedBackfill;
    void Promise.all(
      fromShared.map((s) =>
        shared.read(`${bed}/${s}`, now - windows[s], this.o.ring.kinds[s].maxItems).catch((err: unknown) => {
          this.log.warn(
            { event: 'backfill_read_failed', err: err instanceof Error ? err.message : String(err) },
            'shared backfill unavailable; memory only',
          );
          return [] as StreamItem[];
        }),
      ),
    ).then((lists) => {
      if (c.closed || c.beds.get(bed) !== set) return;
      const now2 = this.now();
      const summaries: Partial<Record<StreamName, BackfillSummary>> = {};
      const out: StreamItem[][] = [];
      for (const s of added) {
        const idx = fromShared.indexOf(s);
        const sel = this.history(`${bed}/${s}`, s, now2, windows, idx >= 0 ? (lists[idx] ?? []) : []);
        summaries[s] = { items: sel.items.length, stride: sel.stride, toSeq: lastSeq(sel.items) };
        const held = c.holding.get(`${bed}/${s}`) ?? [];
        c.holding.delete(`${bed}/${s}`);
        // What was held and is not in the history (by seq: history replayed by the gateway may be below it).
        const sent = new Set(sel.items.map((it) => it.seq));
        out.push([...sel.items, ...held.filter((h) => h.seq === 0 || !sent.has(h.seq))]);
      }
      this.sendText(c, { type: 'subscribed', bed, streams: [...set], backfill: summaries });
      for (const list of out) for (const it of list) this.deliver(c, it);
    });
  }

  unsubscribe(c: HubClient, bed: string): void {
    if (!c.beds.has(bed)) return;
    this.dropBed(c, bed, true);
    this.sendText(c, { type: 'unsubscribed', bed });
  }

  /** The ward view's entry for the tiles of one burst; tiles it cannot record are closed again (fail closed). */
  private writeWardOpen(c: HubClient): void {
    const open = c.ward.takeOpen(this.who(c));
    if (open === null || c.closed) return;
    if (this.o.audit.append(open.entry)) return;
    for (const bed of open.beds) {
      if (!c.ward.forget(bed)) continue;
      this.dropBed(c, bed, true, false);
      this.sendText(c, {
        type: 'refused',
        bed,
        code: 'VW_ERR_AUDIT_UNAVAILABLE',
        reason: 'the access audit log cannot be written; try again later',
      });
    }
  }

  private dropBed(c: HubClient, bed: string, purge: boolean, audited = true): void {
    const set = c.beds.get(bed);
    if (!set) return;
    c.beds.delete(bed);
    for (const s of set) {
      const key = `${bed}/${s}`;
      const subs = this.subs.get(key);
      subs?.delete(c);
      if (subs && subs.size === 0) this.subs.delete(key);
      c.holding.delete(key);
    }
    if (purge) c.queue.purgeBed(bed);
    if (!audited) return;
    if (c.ward.tiles.delete(bed)) {
      if (c.ward.tiles.size > 0) return;
      // The ward view closes: its open entry first if it is still pending, then the close naming every bed it showed.
      if (c.ward.hasPending) this.writeWardOpen(c);
      this.o.audit.append(c.ward.takeClose(this.who(c)));
      return;
    }
    const b = parseBedKey(bed);
    if (b) this.o.audit.append({ event: 'close', user: c.session.user, ...b, remote: c.remote, session: c.session.id });
  }

  private who(c: HubClient): { user: string; remote: string; session: string } {
    return { user: c.session.user, remote: c.remote, session: c.session.id };
  }

  private history(
    stream: string,
    kind: StreamName,
    now: number,
    windows: Windows,
    shared: StreamItem[],
  ): { items: StreamItem[]; stride: number } {
    return selectHistory(this.ring.ring(stream), kind, now, windows, shared, this.o.limits.backfill.trendBytes);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Sending

  private markDirty(c: HubClient): void {
    this.dirty.add(c);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const c of this.dirty) {
      if (c.closed) continue;
      if (c.ws.bufferedAmount >= this.o.limits.sendThresholdBytes) {
        if (c.congestedSince === 0) c.congestedSince = this.now();
        this.congested.add(c);
        continue;
      }
      this.send(c);
    }
    this.dirty.clear();
  }

  private send(c: HubClient): void {
    const before = c.queue.counters.sentBatches;
    for (const f of c.queue.drain()) {
      if (f.binary) c.ws.send(f.binary, { binary: true });
      else c.ws.send(f.text, { binary: false });
    }
    this.counters.delivered += c.queue.counters.sentBatches - before;
  }

  private checkCongested(): void {
    const now = this.now();
    for (const c of this.congested) {
      if (c.closed) {
        this.congested.delete(c);
        continue;
      }
      if (c.ws.bufferedAmount < this.o.limits.sendThresholdBytes) {
        c.congestedSince = 0;
        this.congested.delete(c);
        this.send(c);
      } else if (now - c.congestedSince > this.o.limits.stuckMs) {
        this.closeSlow(c, `socket did not drain for ${this.o.limits.stuckMs} ms`);
      }
    }
  }

  private closeSlow(c: HubClient, why: string): void {
    if (c.closed) return;
    this.counters.slowClosed++;
    this.peerLog.warn(
      'client_closed',
      {
        code: 'VW_ERR_WS_SLOW_CLIENT',
        user: c.session.user,
        why,
        queued: c.queue.queuedBytes,
        buffered: c.ws.bufferedAmount,
      },
      'slow dashboard client closed',
    );
    this.removeClient(c);
    c.ws.close(CLOSE.SLOW_CLIENT, 'slow client');
    // A socket that cannot drain cannot deliver the close frame either.
    setTimeout(() => c.ws.terminate(), 2000).unref();
  }

  /** Batches handed to dashboards' sockets by kind, the gone clients' and the connected ones'. */
  deliveredByKind(): Record<StreamName | 'gap', number> {
    const out = { ...this.sentByKind };
    for (const c of this.clients)
      for (const k of Object.keys(out) as (keyof typeof out)[]) out[k] += c.queue.sentByKind[k];
    return out;
  }

  /** Counters including the queues of connected clients. */
  snapshot(): HubCounters {
    const out = { ...this.counters };
    for (const c of this.clients) {
      out.coalesced += c.queue.counters.coalesced;
      out.droppedWaves += c.queue.counters.droppedWaves;
      out.gaps += c.queue.counters.gaps;
    }
    return out;
  }

  /** Folds a client's queue counters into the hub's (when it goes). */
  private harvest(c: HubClient): void {
    const q = c.queue.counters;
    this.counters.coalesced += q.coalesced;
    this.counters.droppedWaves += q.droppedWaves;
    this.counters.gaps += q.gaps;
    q.coalesced = 0;
    q.droppedWaves = 0;
    q.gaps = 0;
    for (const k of Object.keys(this.sentByKind) as (keyof typeof this.sentByKind)[]) {
      this.sentByKind[k] += c.queue.sentByKind[k];
      c.queue.sentByKind[k] = 0;
    }
  }

  sweep(): void {
    this.ring.sweep(this.now());
  }

  /** Beds listed now (every site). */
  get bedCount(): number {
    return this.beds.size;
  }
}
