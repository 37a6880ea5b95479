// The live dashboard: one tile per device, fed by the fan-out's websocket. Each binary message
// is exactly one protobuf Batch, the same bytes the gateway published; it is decoded here once.
// Plain DOM: each tile's elements are built once and afterwards only their textContent,
// classes and `hidden` change.
import { Batch, Flag } from '../proto/index.js';
import type { IBatch, IObservation } from '../proto/index.js';

/** MDC codes shown on a tile (IEEE 11073-10101). */
const MDC = {
  ECG_HR: 147842, // MDC_ECG_CARD_BEAT_RATE
  PULSE_RATE: 149530, // MDC_PULS_OXIM_PULS_RATE: HR fallback when no ECG is connected
  SPO2: 150456, // MDC_PULS_OXIM_SAT_O2
  RR: 151562, // MDC_RESP_RATE
} as const;

const STALE_AFTER_MS = 5_000; // a value older than this is marked stale
const AGE_REFRESH_MS = 500; // how often ages and staleness are recomputed
const BACKOFF_MIN_MS = 1_000; // first reconnect delay, doubled per failed attempt...
const BACKOFF_MAX_MS = 10_000; // ...up to this cap
const MAX_TILES = 512; // devices beyond this are ignored (and counted) rather than growing the page forever
const SUBPROTOCOL = 'vw.v1';

type ConnState = 'connecting' | 'live' | 'offline';

/** The latest reading of one metric on one device. */
interface Reading {
  readonly text: string; // display text of the value ('—' when unavailable)
  readonly unit: string;
  readonly flags: number;
  readonly atMs: number; // gateway time of the observation, or arrival time when it has none
}

interface Slot {
  readonly root: HTMLElement;
  readonly label: HTMLElement;
  readonly value: HTMLElement;
  readonly unit: HTMLElement;
  readonly age: HTMLElement;
}

interface Tile {
  readonly root: HTMLElement;
  readonly title: HTMLElement;
  readonly demo: HTMLElement;
  readonly stale: HTMLElement;
  readonly meta: HTMLElement;
  readonly hr: Slot;
  readonly spo2: Slot;
  readonly rr: Slot;
  readonly readings: Map<number, Reading>; // by MDC code, only the codes in MDC
  latestAtMs: number; // time of the newest observation of any metric
  latestDemo: boolean; // did that newest observation carry FLAG_DEMO
}

const WATCHED = new Set<number>(Object.values(MDC));

const grid = requireElement('grid');
const conn = requireElement('conn');
const notice = requireElement('notice');
const empty = requireElement('empty');
const tiles = new Map<string, Tile>();
let ignoredDevices = 0;
let badMessages = 0;

// ---------------------------------------------------------------------------------------------
// Connection

let socket: WebSocket | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let backoffMs = BACKOFF_MIN_MS;

/** The access token from `#token=<base64url>`; null when absent or malformed. */
function readToken(): string | null {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  // A subprotocol must be an HTTP token (RFC 6455 4.1); base64url always is.
  return token !== null && /^[A-Za-z0-9_-]+$/.test(token) ? token : null;
}

function setConn(state: ConnState, detail = ''): void {
  setText(conn, state);
  conn.dataset['state'] = state;
  conn.title = detail;
}

function setNotice(text: string): void {
  setText(notice, text);
  notice.hidden = text === '';
}

function connect(): void {
  clearTimeout(retryTimer);
  const token = readToken();
  if (token === null) {
    setConn('offline', 'no access token');
    setNotice('No access token: open the link you were given (it ends in #token=…).');
    return;
  }
  setNotice('');
  setConn('connecting');
  const url = (location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host + '/ws';
  const ws = new WebSocket(url, [SUBPROTOCOL, 'vw.token.' + token]);
  ws.binaryType = 'arraybuffer';
  socket = ws;
  ws.onopen = () => {
    if (ws.protocol !== SUBPROTOCOL) {
      ws.close(1002, 'unsupported subprotocol');
      return;
    }
    backoffMs = BACKOFF_MIN_MS;
    setConn('live');
  };
  ws.onmessage = (ev: MessageEvent) => {
    if (!(ev.data instanceof ArrayBuffer)) return; // the contract has no text frames
    let batch: IBatch;
    try {
      batch = Batch.decode(new Uint8Array(ev.data));
    } catch (err) {
      badMessages++;
      console.warn('vitalwire: undecodable message', badMessages, err);
      return;
    }
    noteLatency(batch);
    applyBatch(batch, Date.now());
  };
  ws.onclose = (ev: CloseEvent) => {
    if (socket !== ws) return; // replaced by a newer connection
    socket = null;
    const delay = Math.min(BACKOFF_MAX_MS, backoffMs * (1 + Math.random() * 0.2)); // jitter spreads a crowd of reconnecting pages
    backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
    setConn('offline', `closed (${ev.code}${ev.reason ? ' ' + ev.reason : ''}), retrying in ${Math.round(delay / 1000)} s`);
    retryTimer = setTimeout(connect, delay);
  };
}

// Diagnostics: device-time-to-browser latency of recent observations, in ms, in a bounded ring.
// Read by `npm run bench -- e2e --browser` and handy in the console when support asks "how fresh?".
const LATENCY_RING = 4096;
const diag = { latencyMs: new Float64Array(LATENCY_RING), count: 0 };
(globalThis as { __vitalwire?: typeof diag }).__vitalwire = diag;

function noteLatency(batch: IBatch): void {
  const deviceUs = batch.observations?.[0]?.time?.deviceTimeUs ?? 0;
  if (deviceUs <= 0) return;
  diag.latencyMs[diag.count % LATENCY_RING] = performance.timeOrigin + performance.now() - deviceUs / 1000;
  diag.count++;
}

// A new token in the address bar takes effect at once.
window.addEventListener('hashchange', () => {
  const old = socket;
  socket = null;
  old?.close(1000, 'token changed');
  backoffMs = BACKOFF_MIN_MS;
  connect();
});

// ---------------------------------------------------------------------------------------------
// Model

function deviceKey(batch: IBatch): string | null {
  const s = batch.source;
  if (!s?.device) return null;
  return `${s.site ?? ''}/${s.gateway ?? ''}/${s.device}`;
}

function applyBatch(batch: IBatch, arrivalMs: number): void {
  const key = deviceKey(batch);
  const observations = batch.observations ?? [];
  if (key === null || observations.length === 0) return; // waves, alarms and statuses are not shown yet
  const tile = tiles.get(key) ?? createTile(key);
  if (tile === null) return;
  const src = batch.source;
  setText(tile.title, src?.bed || src?.device || key);
  setText(tile.meta, [src?.model, src?.device, src?.protocol].filter(Boolean).join(' · '));
  for (const obs of observations) applyObservation(tile, obs, arrivalMs);
  renderTile(tile, arrivalMs);
}

function applyObservation(tile: Tile, obs: IObservation, arrivalMs: number): void {
  const gatewayUs = obs.time?.gatewayTimeUs ?? 0;
  const atMs = gatewayUs > 0 ? gatewayUs / 1000 : arrivalMs;
  const flags = obs.flags ?? 0;
  // Backfilled batches may arrive after newer live ones: only a newer observation replaces.
  if (atMs >= tile.latestAtMs) {
    tile.latestAtMs = atMs;
    tile.latestDemo = (flags & Flag.FLAG_DEMO) !== 0;
  }
  const mdc = obs.mdc ?? 0;
  if (!WATCHED.has(mdc)) return;
  const previous = tile.readings.get(mdc);
  if (previous !== undefined && previous.atMs > atMs) return;
  tile.readings.set(mdc, { text: valueText(obs, flags), unit: obs.unit ?? '', flags, atMs });
}

function valueText(obs: IObservation, flags: number): string {
  if (flags & Flag.FLAG_UNAVAILABLE) return '—';
  if (typeof obs.number === 'number' && Number.isFinite(obs.number)) return String(Math.round(obs.number));
  if (obs.code) return obs.code.text || obs.code.refid || String(obs.code.mdc ?? '');
  if (obs.text) return obs.text;
  return '—';
}

/** ECG heart rate when there is one, the pulse oximeter's rate when ECG is absent or gone stale. */
function heartRate(tile: Tile, nowMs: number): { reading: Reading | undefined; fromPulse: boolean } {
  const ecg = tile.readings.get(MDC.ECG_HR);
  const pulse = tile.readings.get(MDC.PULSE_RATE);
  const usePulse = pulse !== undefined && (ecg === undefined || (isStale(ecg, nowMs) && !isStale(pulse, nowMs)));
  return usePulse ? { reading: pulse, fromPulse: true } : { reading: ecg, fromPulse: false };
}

function isStale(r: Reading, nowMs: number): boolean {
  return nowMs - r.atMs > STALE_AFTER_MS;
}

// ---------------------------------------------------------------------------------------------
// View

function createTile(key: string): Tile | null {
  if (tiles.size >= MAX_TILES) {
    ignoredDevices++;
    setNotice(`Showing ${MAX_TILES} devices; ${ignoredDevices} more ignored.`);
    return null;
  }
  const root = el('section', 'tile');
  root.dataset['device'] = key;
  const header = el('header', 'tile-head');
  const title = el('h2', 'title', key);
  const demo = el('span', 'badge demo', 'DEMO');
  demo.title = 'Device in demo mode: simulated values, not a patient';
  demo.hidden = true;
  const stale = el('span', 'badge stale-badge', 'STALE');
  stale.hidden = true;
  header.append(title, demo, stale);
  const hr = slot('hr', MDC.ECG_HR, 'HR');
  const spo2 = slot('spo2', MDC.SPO2, 'SpO₂');
  const rr = slot('rr', MDC.RR, 'RR');
  const meta = el('footer', 'meta');
  root.append(header, hr.root, spo2.root, rr.root, meta);

  // Keep the grid in key order so tiles do not jump around as devices appear.
  const next = [...tiles.keys()].filter((k) => k > key).sort()[0];
  grid.insertBefore(root, next === undefined ? null : (tiles.get(next)?.root ?? null));
  const tile: Tile = { root, title, demo, stale, meta, hr, spo2, rr, readings: new Map(), latestAtMs: 0, latestDemo: false };
  tiles.set(key, tile);
  empty.hidden = true;
  return tile;
}

function slot(kind: string, mdc: number, label: string): Slot {
  const root = el('div', `vital ${kind}`);
  root.dataset['mdc'] = String(mdc);
  const labelEl = el('span', 'label', label);
  const value = el('span', 'value', '—');
  const unit = el('span', 'unit');
  const age = el('span', 'age');
  root.append(labelEl, value, unit, age);
  return { root, label: labelEl, value, unit, age };
}

function renderTile(tile: Tile, nowMs: number): void {
  const hr = heartRate(tile, nowMs);
  renderSlot(tile.hr, hr.reading, nowMs);
  setText(tile.hr.label, hr.fromPulse ? 'PR' : 'HR');
  renderSlot(tile.spo2, tile.readings.get(MDC.SPO2), nowMs);
  renderSlot(tile.rr, tile.readings.get(MDC.RR), nowMs);
  tile.demo.hidden = !tile.latestDemo;
  const stale = tile.latestAtMs > 0 && nowMs - tile.latestAtMs > STALE_AFTER_MS;
  tile.root.classList.toggle('is-stale', stale);
  tile.root.classList.toggle('is-demo', tile.latestDemo);
  tile.stale.hidden = !stale;
}

function renderSlot(s: Slot, r: Reading | undefined, nowMs: number): void {
  setText(s.value, r?.text ?? '—');
  setText(s.unit, r?.unit ?? '');
  setText(s.age, r === undefined ? '' : ageText(nowMs - r.atMs));
  s.root.classList.toggle('is-empty', r === undefined);
  s.root.classList.toggle('is-stale', r !== undefined && isStale(r, nowMs));
  s.root.classList.toggle('is-unavailable', r !== undefined && (r.flags & Flag.FLAG_UNAVAILABLE) !== 0);
}

function ageText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000)); // a gateway clock slightly ahead must not show "-1 s"
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  e.textContent = text;
  return e;
}

/** Writes only on change, so a steady value costs no DOM mutation. */
function setText(e: HTMLElement, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}

function requireElement(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`dashboard: #${id} missing from index.html`);
  return e;
}

setInterval(() => {
  const now = Date.now();
  for (const tile of tiles.values()) renderTile(tile, now);
}, AGE_REFRESH_MS);

connect();
