// The FHIR R4 search API of the central (the archive's searches: archive/fhir-search.ts), under /fhir on the fan-out's
// HTTP server: GET /fhir/metadata, GET /fhir/Observation?…, GET /fhir/Device?…, GET /fhir/Device/<id> (the read that
// resolves an Observation's device reference). A dashboard session token of a user
// whose role may read records (records.ts RECORD_ROLES); results limited to the user's sites. Every search is an
// entry of the archive's audit (who, what was asked, how many resources), since it can name a patient.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  capabilityStatement,
  outcome,
  readDevice,
  searchDevices,
  searchObservations,
  type SearchContext,
  type SearchResult,
} from '../archive/fhir-search.js';
import { version } from '../lib/version.js';
import { bedInScope } from './scope.js';
import { RECORD_ROLES, sendJson, type Authed, type RecordContext } from './records.js';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const SOFTWARE = { name: 'vitalwire', version: version() };

function send(
  res: ServerResponse,
  r: SearchResult | { status: 401 | 403 | 405 | 503; body: unknown },
  extra: Record<string, string> = {},
): void {
  sendJson(res, r.status, r.body, FHIR_JSON, extra);
}

const denied = (status: 401 | 403 | 503, text: string) => ({
  status,
  body: {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: status === 401 ? 'login' : status === 503 ? 'transient' : 'forbidden',
        diagnostics: text,
      },
    ],
  },
});

export async function handleFhir(
  ctx: RecordContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  params: URLSearchParams,
  auth: Authed,
): Promise<void> {
  const base = `http://${req.headers.host ?? 'localhost'}/fhir`;
  if (path === '/fhir/metadata') return send(res, { status: 200, body: capabilityStatement(base, SOFTWARE) });
  if (!auth.ok)
    return send(
      res,
      denied(auth.status, auth.reason),
      auth.status === 401 ? { 'www-authenticate': 'Bearer' } : { 'retry-after': '5' },
    );
  const { session } = auth;
  if (!RECORD_ROLES.includes(session.role))
    return send(res, denied(403, `role ${session.role} may not read records (${RECORD_ROLES.join(', ')} may)`));
  const [type = '', id, ...rest] = path.slice('/fhir/'.length).split('/');
  if ((type !== 'Observation' && type !== 'Device') || rest.length > 0)
    return send(res, outcome(404, 'not-supported', `${type || '(none)'}: this server searches Observation and Device`));
  if (id !== undefined && type === 'Observation')
    // Observation ids are content hashes (archive/export/fhir.ts): a read would scan the store. Search instead.
    return send(res, outcome(404, 'not-supported', 'Observation is searched here (patient, bed, device), not read'));
  const search: SearchContext = {
    store: ctx.source.store,
    bindings: await ctx.bindings(),
    fhir: ctx.source.fhir,
    base,
    allow: (site, gateway, device) => bedInScope(session.scope, site, gateway, device),
  };
  if (id !== undefined) {
    if (params.size > 0) return send(res, outcome(400, 'invalid', 'a read takes no search parameters'));
    let devId: string;
    try {
      devId = decodeURIComponent(id);
    } catch {
      return send(res, outcome(400, 'invalid', 'the id is not a valid percent-encoded string'));
    }
    const r = await readDevice(search, devId);
    await ctx.source.store.audit.append({
      actor: session.user,
      action: 'record.read',
      subject: type,
      before: null,
      after: { read: id, resources: r.status === 200 ? 1 : 0, session: session.id },
    });
    return send(res, r);
  }
  const r = type === 'Observation' ? await searchObservations(search, params) : await searchDevices(search, params);
  if (r.status === 200 && r.body.resourceType === 'Bundle') {
    await ctx.source.store.audit.append({
      actor: session.user,
      action: 'record.read',
      subject: type,
      before: null,
      after: { query: params.toString(), resources: r.body.entry?.length ?? 0, session: session.id },
    });
    ctx.logger.info(
      { event: 'fhir_search', user: session.user, type, resources: r.body.entry?.length ?? 0 },
      'FHIR search',
    );
  }
  send(res, r);
}
