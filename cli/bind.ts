// `vitalwire bind`: which bed (and patient, encounter) a device serves over a time range, set centrally and audited.
// Patient identifiers go to the audit store and to this command's own output, never to a log.
import { VitalwireError } from '../lib/errors.js';
import { endBinding, listBindings, setBinding, type Binding } from '../archive/bindings.js';
import { openAudit } from '../archive/config.js';
import { formatUs } from '../archive/export/names.js';
import { silentLogger } from '../lib/log.js';
import { helpText, parse, type CommandSpec } from './args.js';
import { actorOf, ARCHIVE_LOCATION, archiveConfigOf, deviceOption, timeOption } from './archive-args.js';

export const bindCommand: CommandSpec = {
  name: 'bind',
  summary: 'Bind a device to a bed and patient over time (audited); list or end bindings.',
  usage:
    'bind (--config FILE | --data-dir DIR) --device SITE/GW/DEV --bed LABEL [--patient ID] [--encounter ID] [--from T] [--to T] [--by NAME]\n' +
    '       vitalwire bind (--config FILE | --data-dir DIR) --list [--device SITE/GW/DEV] [--bed LABEL]\n' +
    '       vitalwire bind (--config FILE | --data-dir DIR) --end BINDING_ID [--at T] [--by NAME]',
  options: {
    ...ARCHIVE_LOCATION,
    device: { type: 'string', arg: 'SITE/GW/DEV', help: 'the device, as its topic names it' },
    bed: { type: 'string', arg: 'LABEL', help: 'bed label (1-64 characters)' },
    patient: { type: 'string', arg: 'ID', help: 'patient identifier (the hospital record number)' },
    encounter: { type: 'string', arg: 'ID', help: 'encounter (visit) identifier' },
    from: { type: 'string', arg: 'T', help: 'start, ISO 8601 with zone or epoch microseconds (default: now)' },
    to: { type: 'string', arg: 'T', help: 'end (default: open until ended or replaced)' },
    list: { type: 'boolean', help: 'list bindings' },
    end: { type: 'string', arg: 'BINDING_ID', help: 'end a binding' },
    at: { type: 'string', arg: 'T', help: 'with --end: when (default: now); at its start voids it' },
    by: { type: 'string', arg: 'NAME', help: 'who makes the change, for the audit (default: the OS user)' },
  },
};

function line(b: Binding): string {
  return [
    b.id,
    `${b.site}/${b.gateway}/${b.device}`,
    b.bed,
    b.patient ?? '-',
    b.encounter ?? '-',
    formatUs(b.fromUs),
    b.toUs === null ? 'open' : formatUs(b.toUs),
  ].join('\t');
}

export async function runBind(argv: string[]): Promise<number> {
  const { values } = parse(bindCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(bindCommand));
    return 0;
  }
  const cfg = await archiveConfigOf(values);
  const { audit, close } = await openAudit(cfg, silentLogger());
  try {
    const nowUs = Date.now() * 1000;
    const device = deviceOption(values['device']);
    if (values['list']) {
      const all = await listBindings(audit);
      const shown = all.filter(
        (b) =>
          (!device || (b.site === device.site && b.gateway === device.gateway && b.device === device.device)) &&
          (values['bed'] === undefined || b.bed === values['bed']),
      );
      process.stdout.write(
        `id\tdevice\tbed\tpatient\tencounter\tfrom\tto\n${shown.map((b) => `${line(b)}\n`).join('')}`,
      );
      return 0;
    }
    if (typeof values['end'] === 'string') {
      const b = await endBinding(audit, actorOf(values), values['end'], timeOption(values['at'], 'at') ?? nowUs);
      process.stdout.write(`bind: ended ${b.id} at ${formatUs(b.toUs as number)}\n`);
      return 0;
    }
    if (!device || typeof values['bed'] !== 'string')
      throw new VitalwireError('VW_ERR_USAGE', '--device and --bed are required (or --list, or --end)');
    const b = await setBinding(audit, actorOf(values), {
      ...device,
      bed: values['bed'],
      patient: values['patient'] as string | undefined,
      encounter: values['encounter'] as string | undefined,
      fromUs: timeOption(values['from'], 'from') ?? nowUs,
      toUs: timeOption(values['to'], 'to'),
    });
    process.stdout.write(`bind: ${line(b)}\n`);
    return 0;
  } finally {
    await close();
  }
}
