// `vitalwire export`: archived data as FHIR R4, PCD-01, Parquet or CSV, with the bed/patient binding valid at each
// observation's time. Demo, test and simulated data only with --include-demo; --deidentify for research sets.
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { VitalwireError } from '../lib/errors.js';
import { loadOrCreateSiteSecret, openArchiveReader } from '../archive/config.js';
import { EXPORT_FORMATS, runExport, type ExportFormat } from '../archive/export/export.js';
import { silentLogger } from '../lib/log.js';
import { isValidSegment } from '../lib/topics.js';
import { helpText, parse, type CommandSpec } from './args.js';
import { actorOf, ARCHIVE_LOCATION, archiveConfigOf, deviceOption, timeOption } from './archive-args.js';

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'Export archived vital signs as FHIR R4, PCD-01 and PCD-04 (HL7 v2), Parquet or CSV.',
  usage:
    'export --format fhir|pcd01|pcd04|parquet|csv (--config FILE | --data-dir DIR) [--from T] [--to T] [--site S|--bed LABEL|--device SITE/GW/DEV]\n' +
    '       [--include-demo] [--deidentify] [--bundle] [--out FILE] [--by NAME]',
  options: {
    format: { type: 'string', arg: 'FORMAT', help: `one of ${EXPORT_FORMATS.join(', ')}` },
    ...ARCHIVE_LOCATION,
    from: { type: 'string', arg: 'T', help: 'start (inclusive), ISO 8601 with zone or epoch microseconds' },
    to: { type: 'string', arg: 'T', help: 'end (exclusive)' },
    site: { type: 'string', arg: 'S', help: 'one site' },
    bed: { type: 'string', arg: 'LABEL', help: 'one bed: the devices bound to it, over their binding times' },
    device: { type: 'string', arg: 'SITE/GW/DEV', help: 'one device' },
    'include-demo': {
      type: 'boolean',
      help: 'also export demo, test and simulated data (marked as such); never with --deidentify',
    },
    deidentify: {
      type: 'boolean',
      help: 'research export: keyed pseudonyms, per-patient time shift, no free text, no demo/test (docs/privacy.md)',
    },
    bundle: { type: 'boolean', help: 'FHIR: one transaction Bundle instead of NDJSON lines' },
    out: { type: 'string', arg: 'FILE', help: 'write here instead of standard output (created with mode 0600)' },
    by: { type: 'string', arg: 'NAME', help: 'who exports, for the audit (default: the OS user)' },
  },
};

export async function runExportCommand(argv: string[]): Promise<number> {
  const { values } = parse(exportCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(exportCommand));
    return 0;
  }
  const format = values['format'];
  if (typeof format !== 'string' || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new VitalwireError('VW_ERR_USAGE', `--format must be one of ${EXPORT_FORMATS.join(', ')}`);
  }
  if (values['deidentify'] && values['include-demo'])
    throw new VitalwireError('VW_ERR_USAGE', '--include-demo cannot go with --deidentify');
  const site = values['site'];
  if (site !== undefined && !isValidSegment(String(site)))
    throw new VitalwireError('VW_ERR_USAGE', '--site is not a valid site id');
  const cfg = await archiveConfigOf(values);
  const archive = await openArchiveReader(cfg, silentLogger());
  const outPath = values['out'];
  const out = typeof outPath === 'string' ? createWriteStream(outPath, { mode: 0o600 }) : process.stdout;
  try {
    const counts = await runExport(
      archive,
      {
        format: format as ExportFormat,
        fromUs: timeOption(values['from'], 'from'),
        toUs: timeOption(values['to'], 'to'),
        site: site as string | undefined,
        bed: values['bed'] as string | undefined,
        device: deviceOption(values['device']),
        includeDemo: values['include-demo'] === true,
        deidentify: values['deidentify'] ? await loadOrCreateSiteSecret(cfg.dataDir) : undefined,
        bundle: values['bundle'] === true,
        fhir: {
          patientSystem: cfg.fhir.patientSystem,
          encounterSystem: cfg.fhir.encounterSystem,
          patientAuthority: cfg.fhir.patientAuthority,
        },
        actor: actorOf(values),
      },
      out,
    );
    process.stderr.write(
      `export: ${counts.records} ${format} records (${counts.observations} observations, ${counts.waves} waveform chunks, ${counts.alarms} alarms, ${counts.gaps} gaps)\n`,
    );
    // What HL7 v2 could not carry truthfully was left out: say how much (archive/export/pcd01.ts, pcd04.ts).
    const hl7 = counts.pcd01 ?? counts.pcd04;
    if (hl7)
      process.stderr.write(
        `export: ${format} ${Object.entries(hl7)
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(', ')}\n`,
      );
  } finally {
    if (out !== process.stdout) {
      out.end();
      await finished(out);
    }
    await archive.close();
  }
  return 0;
}
