// vitalwire watch: the mosquitto_sub of vitalwire. Subscribes to the broker with a user's password or a gateway's
// certificate and prints the stream as NDJSON: one line per observation, waveform chunk, alarm, gap and status, each
// with its topic, seq and source. Filters pick sites, gateways, beds and kinds; they become the subscriptions, so a
// scoped user asks only for what it may see.
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { VitalwireError } from '../lib/errors.js';
import {
  alarmRecord,
  gapRecord,
  observationRecord,
  statusRecord,
  waveRecord,
  type NdjsonRecord,
} from '../decoders/ndjson.js';
import { checkOwnCertificate, explainConnectError } from '../lib/connect-diagnosis.js';
import { isValidSegment, TOPIC_ROOT, type StreamKind } from '../lib/topics.js';
import { Batch } from '../proto/index.js';
import { helpText, intOption, parse, untilSignal, type CommandSpec } from './args.js';

export const watchCommand: CommandSpec = {
  name: 'watch',
  summary:
    'Print the live stream as NDJSON (observations, waveform chunks, alarms, gaps, statuses, with topic and seq).',
  usage:
    'watch --broker mqtts://HOST:PORT --ca FILE (--user NAME [--password-file FILE] | --cert FILE --key FILE) [--site S] [--gateway S/G] [--bed S/G/D] [--kind K] [--count N]',
  options: {
    broker: { type: 'string', arg: 'URL', help: 'the central broker, mqtts://host:port' },
    ca: { type: 'string', arg: 'FILE', help: "the site CA certificate (PEM) that signed the broker's certificate" },
    user: {
      type: 'string',
      arg: 'NAME',
      help: 'a user account (vitalwire users add); the password comes from --password-file or VW_PASSWORD',
    },
    'password-file': { type: 'string', arg: 'FILE', help: "a file holding the user's password (first line)" },
    cert: { type: 'string', arg: 'FILE', help: "a gateway's certificate: watch what that gateway publishes" },
    key: { type: 'string', arg: 'FILE', help: "the gateway's private key" },
    site: {
      type: 'string',
      multiple: true,
      arg: 'SITE',
      help: 'only this site (repeatable); a scoped user must name its sites',
    },
    gateway: { type: 'string', multiple: true, arg: 'SITE/GW', help: 'only this gateway (repeatable)' },
    bed: { type: 'string', multiple: true, arg: 'SITE/GW/DEVICE', help: 'only this device (repeatable)' },
    kind: {
      type: 'string',
      multiple: true,
      arg: 'KIND',
      help: 'only these records: obs, wave, alarm, status, gap (repeatable)',
    },
    summary: {
      type: 'boolean',
      default: false,
      help: 'waveform chunks without their samples (count, first and last only)',
    },
    count: { type: 'string', arg: 'N', help: 'exit after printing N records' },
  },
};

const RECORD_KINDS = ['obs', 'wave', 'alarm', 'status', 'gap'] as const;
type RecordKind = (typeof RECORD_KINDS)[number];

/** The subscriptions that the filters ask for: the narrowest filters that cover them, never wider. */
export function subscriptions(o: {
  sites: string[];
  gateways: string[];
  beds: string[];
  kinds: RecordKind[];
}): string[] {
  // A gap travels in any stream's Batch (the gateway's own gaps in the status stream): it needs every stream.
  const streams: (StreamKind | '+')[] =
    o.kinds.length === 0 || o.kinds.includes('gap') ? ['+'] : [...new Set(o.kinds as StreamKind[])];
  const prefixes: string[] = [];
  for (const b of o.beds) prefixes.push(`${TOPIC_ROOT}/${b}`);
  for (const g of o.gateways) prefixes.push(`${TOPIC_ROOT}/${g}/+`);
  for (const s of o.sites) prefixes.push(`${TOPIC_ROOT}/${s}/+/+`);
  if (prefixes.length === 0) prefixes.push(`${TOPIC_ROOT}/+/+/+`);
  return prefixes.flatMap((p) => streams.map((k) => `${p}/${k}`));
}

function segments(v: string, n: number, flag: string): string {
  const parts = v.split('/');
  if (parts.length !== n || !parts.every(isValidSegment)) {
    throw new VitalwireError(
      'VW_ERR_USAGE',
      `--${flag} must be ${['SITE', 'SITE/GATEWAY', 'SITE/GATEWAY/DEVICE'][n - 1]}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** Every record of one published Batch, each with where it came from. */
export function batchRecords(
  topic: string,
  payload: Uint8Array,
  o: { kinds: RecordKind[]; summary: boolean },
): NdjsonRecord[] {
  let b;
  try {
    b = Batch.decode(payload);
  } catch (err) {
    return [
      {
        topic,
        kind: 'error',
        code: 'VW_ERR_PAYLOAD_INVALID',
        detail: err instanceof Error ? err.message.slice(0, 200) : 'undecodable payload',
      },
    ];
  }
  const src = b.source;
  const head: NdjsonRecord = { topic, seq: Number(b.seq) };
  if (b.backfill) head['backfill'] = true;
  if (src?.bed) head['bed'] = src.bed;
  const want = (k: RecordKind) => o.kinds.length === 0 || o.kinds.includes(k);
  const out: NdjsonRecord[] = [];
  const add = (rec: NdjsonRecord) => out.push({ ...head, ...rec });
  if (want('obs')) for (const ob of b.observations) add(observationRecord(ob));
  if (want('wave')) {
    for (const w of b.waves) {
      const rec = waveRecord(w);
      if (o.summary) {
        const s = rec['samples'] as (number | null)[];
        delete rec['samples'];
        Object.assign(rec, { sampleCount: s.length, firstValue: s[0] ?? null, lastValue: s[s.length - 1] ?? null });
      }
      add(rec);
    }
  }
  if (want('alarm')) for (const a of b.alarms) add(alarmRecord(a));
  if (want('status')) {
    for (const s of b.statuses) {
      add(statusRecord(s));
    }
  }
  if (want('gap')) for (const g of b.gaps) add(gapRecord(g));
  return out;
}

export async function runWatch(
  argv: string[],
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const { values } = parse(watchCommand, argv);
  if (values['help']) {
    stdout.write(helpText(watchCommand));
    return 0;
  }
  const broker = values['broker'] as string | undefined;
  const caFile = values['ca'] as string | undefined;
  if (!broker || !/^mqtts:\/\//.test(broker))
    throw new VitalwireError(
      'VW_ERR_USAGE',
      '--broker mqtts://HOST:PORT is required (vitalwire speaks MQTT over TLS only)',
    );
  if (!caFile)
    throw new VitalwireError('VW_ERR_USAGE', "--ca FILE is required: the site CA that signed the broker's certificate");
  const user = values['user'] as string | undefined;
  const certFile = values['cert'] as string | undefined;
  const keyFile = values['key'] as string | undefined;
  if (!user === !certFile)
    throw new VitalwireError('VW_ERR_USAGE', 'give either --user NAME or --cert FILE --key FILE');
  if (certFile && !keyFile) throw new VitalwireError('VW_ERR_USAGE', '--cert needs --key');
  const kinds = ((values['kind'] as string[] | undefined) ?? []).map((k) => {
    if (!(RECORD_KINDS as readonly string[]).includes(k))
      throw new VitalwireError(
        'VW_ERR_USAGE',
        `--kind must be one of ${RECORD_KINDS.join(', ')}, got ${JSON.stringify(k)}`,
      );
    return k as RecordKind;
  });
  const filters = {
    sites: ((values['site'] as string[] | undefined) ?? []).map((v) => segments(v, 1, 'site')),
    gateways: ((values['gateway'] as string[] | undefined) ?? []).map((v) => segments(v, 2, 'gateway')),
    beds: ((values['bed'] as string[] | undefined) ?? []).map((v) => segments(v, 3, 'bed')),
    kinds,
  };
  const count = values['count'] === undefined ? Infinity : intOption(values['count'], 'count', 1, 1e9);
  const summary = Boolean(values['summary']);

  const ca = await readFile(caFile);
  // rejectUnauthorized explicitly: mqtt.js reports a TLS verification error only when it is set (it is tls.connect's
  // default, but mqtt.js reads the option itself).
  const opts: mqtt.IClientOptions = {
    ca,
    rejectUnauthorized: true,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  };
  let own = null;
  if (certFile && keyFile) {
    const cert = await readFile(certFile);
    opts.cert = cert;
    opts.key = await readFile(keyFile);
    own = checkOwnCertificate(cert, ca);
    // A gateway's client id must be bound to its identity (<site>/<gateway>/...), which its certificate names.
    const uri = new X509Certificate(cert).subjectAltName?.match(/URI:urn:vitalwire:gateway:([^:,\s]+):([^,\s]+)/);
    if (!uri)
      throw new VitalwireError(
        'VW_ERR_USAGE',
        `${certFile} is not a vitalwire gateway certificate (no urn:vitalwire:gateway SAN)`,
      );
    opts.clientId = `${uri[1]}/${uri[2]}/watch-${randomBytes(3).toString('hex')}`;
    if (filters.sites.length + filters.gateways.length + filters.beds.length === 0)
      filters.gateways.push(`${uri[1]}/${uri[2]}`);
  } else {
    const pwFile = values['password-file'] as string | undefined;
    const password = pwFile ? ((await readFile(pwFile, 'utf8')).split('\n')[0] ?? '') : process.env['VW_PASSWORD'];
    if (password === undefined)
      throw new VitalwireError(
        'VW_ERR_USAGE',
        'a password is needed: --password-file FILE or the VW_PASSWORD environment variable',
      );
    opts.username = user as string;
    opts.password = password;
    opts.clientId = ''; // server-assigned: never collides with another session of the same user
  }

  const client = mqtt.connect(broker, opts);
  try {
    await new Promise<void>((resolve, reject) => {
      let last: unknown = new Error('the connection closed before the broker answered');
      client.once('connect', () => resolve());
      client.once('error', reject);
      // Some TLS failures end the socket without an 'error' from mqtt.js: its stream's own error says why.
      client.stream?.once?.('error', (e: unknown) => (last = e));
      client.once('close', () => reject(last));
    });
  } catch (err) {
    client.end(true);
    const d = explainConnectError(err, broker, own);
    stderr.write(`vitalwire watch: cannot connect: ${d.text} [${d.reason}]\n`);
    return 1;
  }
  const subs = subscriptions(filters);
  // A refused filter comes back as SUBACK 0x80 ([MQTT-3.9.3]); mqtt.js reports it as an error or as qos 128.
  let refused: string[];
  try {
    const granted = await client.subscribeAsync(subs, { qos: 1 });
    refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
  } catch {
    refused = subs;
  }
  if (refused.length > 0) {
    await client.endAsync(true);
    const hint =
      user && filters.sites.length + filters.gateways.length + filters.beds.length === 0
        ? ': an account scoped to some sites must name them (--site SITE)'
        : ': the account may not see it';
    stderr.write(`vitalwire watch: the broker refused ${refused.join(', ')}${hint}\n`);
    return 1;
  }
  stderr.write(`vitalwire watch: subscribed to ${subs.join(', ')}\n`);

  let printed = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  client.on('message', (topic, payload) => {
    if (printed >= count) return;
    let text = '';
    for (const rec of batchRecords(topic, payload, { kinds: filters.kinds, summary })) {
      text += `${JSON.stringify(rec)}\n`;
      if (++printed >= count) break;
    }
    if (text) stdout.write(text);
    if (printed >= count) done();
  });
  // A close we did not ask for (the broker went away, or removed the account) is an error; Ctrl-C or --count is not.
  let stopping = false;
  let dropped = false;
  client.on('close', () => {
    if (!stopping) dropped = true;
    done();
  });
  await Promise.race([finished, untilSignal()]);
  stopping = true;
  await client.endAsync().catch(() => undefined);
  if (dropped && printed < count) {
    stderr.write(
      'vitalwire watch: the broker closed the connection (account removed, scope changed, or the broker stopped)\n',
    );
    return 1;
  }
  return 0;
}
