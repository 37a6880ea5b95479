// vitalwire decode: raw device bytes in, NDJSON out (one record per value, wave chunk, alarm or
// status; rejected frames as {"kind":"error","code":...}). Streams: memory stays bounded by the
// framer limits, whatever the input size.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import { VitalwireError } from '../lib/errors.js';
import { createPipeline } from '../decoders/pipeline.js';
import { detectProtocol, getProtocol, protocolIds, type Protocol } from '../decoders/registry.js';
import { decodedRecords, errorRecord } from '../decoders/ndjson.js';
import { helpText, intOption, parse, type CommandSpec } from './args.js';

export const decodeCommand: CommandSpec = {
  name: 'decode',
  summary: 'Decode raw device bytes (a capture file or stdin) to NDJSON: MDC codes, UCUM units, flags, coded errors.',
  usage:
    'decode [--format auto|hl7|nonin7|nonin8|masimo|datex|ble-bridge] [file|-]\n\nExit status: 0 when every frame decoded, 2 when some failed (their errors are in the output), 1 when none decoded.',
  positionals: true,
  options: {
    format: {
      type: 'string',
      default: 'auto',
      arg: 'FORMAT',
      help: 'wire format; auto detects it from the first bytes',
    },
    'utc-offset': {
      type: 'string',
      default: '0',
      arg: 'MIN',
      help: 'UTC offset in minutes assumed for device times sent without one (Vietnam: 420)',
    },
    'max-frame-bytes': { type: 'string', arg: 'N', help: "largest frame accepted (default: the protocol's own)" },
  },
};

export async function runDecode(
  argv: string[],
  stdin: Readable = process.stdin,
  stdout: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { values, positionals } = parse(decodeCommand, argv);
  if (values['help']) {
    stdout.write(helpText(decodeCommand));
    return 0;
  }
  if (positionals.length > 1) throw new VitalwireError('VW_ERR_USAGE', 'give one file, or - for stdin');
  const format = String(values['format']);
  if (format !== 'auto' && !getProtocol(format)) {
    throw new VitalwireError('VW_ERR_USAGE', `--format must be auto or one of ${protocolIds().join(', ')}`);
  }
  const offset = intOption(values['utc-offset'], 'utc-offset', -720, 840);
  const maxFrame =
    values['max-frame-bytes'] === undefined
      ? undefined
      : intOption(values['max-frame-bytes'], 'max-frame-bytes', 16, 64 * 1024 * 1024);
  const file = positionals[0] ?? '-';
  const input: Readable = file === '-' ? stdin : createReadStream(file);

  let out = '';
  const emit = (rec: unknown) => {
    out += `${JSON.stringify(rec)}\n`;
  };
  const flushOut = async () => {
    if (out.length === 0) return;
    const ok = stdout.write(out);
    out = '';
    if (!ok) await once(stdout, 'drain');
  };

  // Exit status (docs/decoders.md): 0 every frame decoded, 2 some frames failed, 1 nothing decoded at all.
  let framesOk = 0;
  let framesBad = 0;
  let protocol: Protocol | undefined = format === 'auto' ? undefined : getProtocol(format);
  let pipeline: ReturnType<typeof createPipeline> | undefined;
  let head: Buffer = Buffer.alloc(0);
  const start = (p: Protocol): ReturnType<typeof createPipeline> => {
    protocol = p;
    return createPipeline(
      p,
      {
        decoded: (d) => {
          framesOk++;
          for (const r of decodedRecords(d, offset)) emit(r);
        },
        error: (e) => {
          framesBad++;
          emit(errorRecord(e));
        },
      },
      { defaultUtcOffsetMin: offset, ...(maxFrame !== undefined ? { maxFrameBytes: maxFrame } : {}) },
    );
  };
  if (protocol) pipeline = start(protocol);

  const now = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
  for await (const chunk of input as AsyncIterable<Buffer>) {
    if (!pipeline) {
      // Detect on the first 512 bytes (or what the input has): enough for every supported format.
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < 512) continue;
      const p = detectProtocol(head);
      if (!p) break;
      pipeline = start(p);
      pipeline.push(head, now());
      head = Buffer.alloc(0);
    } else {
      pipeline.push(chunk, now());
    }
    await flushOut();
  }
  if (!pipeline && head.length > 0) {
    const p = detectProtocol(head);
    if (p) {
      pipeline = start(p);
      pipeline.push(head, now());
    }
  }
  if (!pipeline) {
    framesBad++;
    emit({
      kind: 'error',
      code: 'VW_ERR_FORMAT_UNKNOWN',
      detail: `none of ${protocolIds().join(', ')} recognised; use --format`,
    });
  } else {
    pipeline.end();
  }
  await flushOut();
  return framesBad === 0 ? 0 : framesOk === 0 ? 1 : 2;
}
