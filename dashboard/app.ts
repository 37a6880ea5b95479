// The specialist's dashboard: login, the ward grid, one bed's view. Each binary WebSocket message carries Batches
// exactly as the gateway published them; they are decoded here once, by the same generated code the gateway used.
// Routes: #/login, #/ward, #/bed/<site>/<gateway>/<device>.
import type { BedInfo, ServerMessage, SessionResponse } from '../fanout/protocol.js';
import type { vitalwire } from '../proto/gen/vitals.js';
import { Kind } from '../proto/index.js';
import { parseBedKey } from '../fanout/protocol.js';
import { BedView } from './bed-view.js';
import { Connection, diag, type BadBatch, type ConnState } from './connection.js';
import { requireElement, setData, setHidden, setText } from './dom.js';
import { ageText } from './format.js';
import { BedState } from './model.js';
import { MODE_TEXT, modesOf } from './quality.js';
import { clearSession, loadSession, login, renew, saveSession } from './session.js';
import { WardView } from './ward.js';

/** The connection indicator turns stale after this long without data while beds are open. */
const CONN_STALE_MS = 3000;
const TICK_MS = 500;
const TREND_EVERY_TICKS = 4;
const MAX_BED_STATES = 256;
const LOGIN_MESSAGE = 'vitalwire.loginMessage';

const conn$ = requireElement('conn');
const user$ = requireElement('user');
const logout$ = requireElement('logout');
const modeGlobal$ = requireElement('mode-global');
const main$ = requireElement('main');
const loginView$ = requireElement('login');
const loginForm = requireElement('login-form') as HTMLFormElement;
const loginError$ = requireElement('login-error');

const beds = new Map<string, BedState>();
const infos = new Map<string, BedInfo>();
let session: SessionResponse | null = null;
let connection: Connection | null = null;
let connState: ConnState = 'offline';
let renewTimer: ReturnType<typeof setTimeout> | undefined;
let view: 'login' | 'ward' | 'bed' = 'login';

function bedState(key: string): BedState {
  let b = beds.get(key);
  if (!b) {
    if (beds.size >= MAX_BED_STATES) {
      const oldest = beds.keys().next().value;
      if (oldest !== undefined) beds.delete(oldest);
    }
    b = new BedState(key);
    const info = infos.get(key);
    if (info) b.describe(info);
    beds.set(key, b);
  }
  return b;
}

const now = (): number => (connection ? connection.now() : Date.now());
const ward = new WardView({ bed: bedState, onTilesChanged: () => wardTilesChanged(), now });
const bedView = new BedView(now);
main$.append(ward.root, bedView.root);

// ---- session -------------------------------------------------------------------------------------------------

function startSession(s: SessionResponse): void {
  session = s;
  saveSession(s);
  setText(user$, `${s.user} (${s.role})`);
  setHidden(user$, false);
  setHidden(logout$, false);
  scheduleRenewal();
  if (connection === null) {
    connection = new Connection(s.token, {
      batch: onBatch,
      badBatch: onBadBatch,
      control: onControl,
      state: onConnState,
      sessionProblem,
    });
    connection.start();
  } else connection.setToken(s.token);
}

function scheduleRenewal(): void {
  clearTimeout(renewTimer);
  if (!session) return;
  // Renew a third of the lifetime before expiry (at most 5 min before), so a slow renewal still lands in time.
  const left = session.expiresAt - Date.now();
  const delay = Math.max(1000, left - Math.min(300_000, left / 3));
  renewTimer = setTimeout(() => void renewNow(), delay);
}

async function renewNow(): Promise<void> {
  if (!session) return;
  const r = await renew(session.token);
  if (r.ok) startSession(r.session);
  else if (r.status === 401) logout('Your session has ended. Please log in again.');
  else renewTimer = setTimeout(() => void renewNow(), 10_000);
}

function sessionProblem(why: 'expired' | 'removed' | 'refused'): void {
  if (why === 'removed')
    logout('Your access to this dashboard was withdrawn. Ask an administrator if this is a mistake.');
  else if (why === 'expired') logout('Your session has expired. Please log in again.');
  else if (session && session.expiresAt <= Date.now()) logout('Your session has expired. Please log in again.');
  else void renewNow(); // a refused upgrade: a renewal says whether the session still holds
}

function logout(message = ''): void {
  clearTimeout(renewTimer);
  connection?.stop();
  connection = null;
  session = null;
  clearSession();
  beds.clear();
  setHidden(user$, true);
  setHidden(logout$, true);
  onConnState('offline', 'logged out');
  // A clean page: nothing of the previous session survives. The message is shown after the reload.
  if (message) sessionStorage.setItem(LOGIN_MESSAGE, message);
  location.hash = '#/login';
  location.reload();
}

logout$.addEventListener('click', () => logout());

loginForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const data = new FormData(loginForm);
  const user = String(data.get('user') ?? '');
  const password = String(data.get('password') ?? '');
  const button = loginForm.querySelector('button');
  if (button) button.disabled = true;
  void login(user, password).then((r) => {
    if (button) button.disabled = false;
    if (!r.ok) {
      const text =
        r.status === 401
          ? 'Unknown user or wrong password.'
          : r.status === 429
            ? `Too many failed attempts. Try again in ${r.retryAfterS ?? 60} s.`
            : r.reason || 'Login failed.';
      setText(loginError$, text);
      setHidden(loginError$, false);
      return;
    }
    setHidden(loginError$, true);
    (loginForm.elements.namedItem('password') as HTMLInputElement).value = '';
    startSession(r.session);
    location.hash = pendingRoute ?? '#/ward';
    pendingRoute = null;
  });
});

// ---- data ----------------------------------------------------------------------------------------------------

function onBatch(b: vitalwire.v1.Batch, arrivalMs: number): void {
  const s = b.source;
  if (!s?.device) return;
  const key = `${s.site}/${s.gateway}/${s.device}`;
  if (!connection?.wants(key)) return; // data of a bed just closed
  const bed = bedState(key);
  if (!bed.apply(b, arrivalMs)) return;
  // A waveform chunk (4 per second per bed) changes no numeric: only what it may bring (a new track, a mode) is redrawn.
  const wave = b.kind === Kind.KIND_WAVE;
  if (view === 'ward') ward.update(bed, wave);
  else if (view === 'bed' && bedView.key === key) bedView.update(bed, wave);
}

function onBadBatch(bad: BadBatch, arrivalMs: number): void {
  // Counted in the connection; shown as a gap of that bed only, when the header still says which bed it was.
  if (!bad.bed || !connection?.wants(bad.bed)) return;
  const bed = bedState(bad.bed);
  bed.noteUndecodable(bad.kind, bad.seq, arrivalMs);
  if (view === 'ward') ward.update(bed);
  else if (view === 'bed' && bedView.key === bad.bed) bedView.update(bed);
}

function onControl(m: ServerMessage): void {
  switch (m.type) {
    case 'hello':
      if (connection) connection.lastDataMs = Date.now();
      ward.setPageSize(m.maxBeds);
      break;
    case 'beds':
      // The whole list in scope (at connect, after a scope change, after silent devices expired).
      infos.clear();
      for (const b of m.beds) {
        infos.set(b.key, b);
        beds.get(b.key)?.describe(b);
      }
      ward.setBeds(m.beds);
      break;
    case 'bed':
      addBed(m.bed);
      break;
    case 'subscribed':
      bedState(m.bed).subscribed(m.backfill);
      break;
    case 'refused':
      if (view === 'bed' && bedView.key === m.bed) {
        bedView.showRefused(
          m.code === 'VW_ERR_WS_SCOPE'
            ? `You do not have access to this bed (${m.bed}). Ask an administrator to grant it.`
            : `This bed cannot be opened: ${m.reason}`,
        );
      }
      connection?.drop(m.bed);
      break;
    case 'error':
      console.warn('vitalwire: server says', m.code, m.reason);
      break;
    default:
      break;
  }
}

function addBed(b: BedInfo): void {
  infos.set(b.key, b);
  beds.get(b.key)?.describe(b);
  ward.addBed(b);
}

function onConnState(s: ConnState, detail: string): void {
  connState = s;
  renderConn();
  conn$.title = detail;
}

function renderConn(): void {
  let state: string = connState;
  let text: string = connState;
  if (connState === 'live' && connection && connection.subscribedCount > 0) {
    const quiet = Date.now() - connection.lastDataMs;
    if (quiet > CONN_STALE_MS) {
      state = 'stale';
      text = `stale · no data ${ageText(quiet)}`;
    }
  }
  setData(conn$, 'state', state);
  setText(conn$, text);
}

// ---- views ---------------------------------------------------------------------------------------------------

const WARD_STREAMS = ['obs', 'wave', 'alarm', 'status'] as const;

function subscribeWard(): void {
  if (view !== 'ward' || !connection) return;
  // The tiles of the page shown, and nothing else: a page change closes the tiles it leaves.
  const shown = new Set(ward.keys);
  for (const key of connection.wantedKeys()) if (!shown.has(key)) connection.drop(key);
  // Tiles need the newest value of each metric (NIBP may be minutes old), a few seconds of lead II, and the alarms
  // of the last hour.
  for (const key of ward.keys)
    if (!connection.wants(key))
      connection.want(key, [...WARD_STREAMS], { obsLatest: true, waveMs: 4000, alarmMs: 3600_000 });
}

function wardTilesChanged(): void {
  subscribeWard();
  for (const key of ward.keys) {
    const b = beds.get(key);
    if (b) ward.update(b);
  }
}

let pendingRoute: string | null = null;

function route(): void {
  const hash = location.hash || '#/ward';
  if (!session) {
    if (hash !== '#/login') pendingRoute = hash;
    show('login');
    return;
  }
  if (hash.startsWith('#/bed/')) {
    const key = decodeURIComponent(hash.slice('#/bed/'.length));
    openBed(key);
    return;
  }
  if (hash === '#/login') {
    location.hash = '#/ward';
    return;
  }
  show('ward');
  subscribeWard();
  for (const key of ward.keys) {
    const b = beds.get(key);
    if (b) ward.update(b);
  }
}

function openBed(key: string): void {
  show('bed');
  const bed = bedState(key);
  bedView.open(key, bed);
  if (!parseBedKey(key)) {
    bedView.showRefused(`"${key}" is not a bed address (site/gateway/device).`);
    return;
  }
  // The bed view owns its subscription: the ward's are closed, this bed is opened with its full history.
  for (const k of ward.keys) if (k !== key) connection?.drop(k);
  connection?.drop(key);
  connection?.want(key, ['obs', 'wave', 'alarm', 'status'], { obsMs: 3600_000, waveMs: 10_000, alarmMs: 3600_000 });
}

function show(v: typeof view): void {
  view = v;
  setHidden(loginView$, v !== 'login');
  setHidden(ward.root, v !== 'ward');
  setHidden(bedView.root, v !== 'bed');
  document.body.dataset['view'] = v;
  // Canvases take their size once visible.
  requestAnimationFrame(() => {
    if (v === 'ward') ward.resize();
    if (v === 'bed') bedView.resize();
  });
  if (v === 'login') (loginForm.elements.namedItem('user') as HTMLInputElement | null)?.focus();
}

window.addEventListener('hashchange', route);
window.addEventListener('resize', () => {
  if (view === 'ward') ward.resize();
  if (view === 'bed') bedView.resize();
});

// ---- clocks: one animation loop for every sweep, a slower tick for text ---------------------------------------

const frame = (t: number): void => {
  diag.frames++;
  if (view === 'ward') ward.frame(t);
  else if (view === 'bed') bedView.frame(t);
  requestAnimationFrame(frame);
};
requestAnimationFrame(frame);

let ticks = 0;
setInterval(() => {
  ticks++;
  renderConn();
  const t = now();
  if (view === 'ward') ward.tick(t, (k) => beds.get(k));
  if (view === 'bed') bedView.tick(t, beds.get(bedView.key), ticks % TREND_EVERY_TICKS === 1);
  // The top bar says how many beds on screen show data that is not a patient's, and which kind.
  let flags = 0;
  let count = 0;
  for (const key of view === 'ward' ? ward.keys : [bedView.key]) {
    const m = beds.get(key)?.modes() ?? 0;
    flags |= m;
    if (m) count++;
  }
  const modes = modesOf(flags);
  setText(
    modeGlobal$,
    `${modes.map((m) => MODE_TEXT[m].badge).join(' / ')} DATA${view === 'ward' && count > 0 ? ` · ${count} bed${count === 1 ? '' : 's'}` : ''}`,
  );
  setData(modeGlobal$, 'mode', modes[0] ?? 'none');
  setHidden(modeGlobal$, count === 0 || view === 'login');
}, TICK_MS);

diag.sweeps = { ecg: bedView.sweeps[0]!.diag, pleth: bedView.sweeps[1]!.diag, resp: bedView.sweeps[2]!.diag };
// What the page holds of a bed, for support and the browser tests: its gap count and the times of its HR trend.
diag.bed = (key: string) => {
  const b = beds.get(key);
  if (!b) return null;
  return { gaps: b.gaps, hrTrendMs: Array.from({ length: b.trends.hr.size }, (_, k) => b.trends.hr.timeAt(k)) };
};

const message = sessionStorage.getItem(LOGIN_MESSAGE);
if (message) {
  sessionStorage.removeItem(LOGIN_MESSAGE);
  setText(loginError$, message);
  setHidden(loginError$, false);
}
const stored = loadSession();
if (stored) startSession(stored);
route();
