// The `session:` options of a device whose protocol runs a host-side session (decoders/session.ts), validated with
// the rest of the gateway config. Datex S/5: what the transmission request asks for (decoders/datex/session.ts).
import { z } from 'zod';

export const datexSessionSchema = z.strictObject({
  recordType: z.enum(['displayed', 'trend-10s', 'trend-60s']).optional(),
  // 5-60 s: the displayed-values interval range the public drivers ask for; also keeps every request byte clear of
  // the Datex flag and escape bytes (0x7E, 0x7D), so the checksum readings of the public senders agree.
  intervalS: z.number().int().min(5).max(60).optional(),
  classes: z
    .array(z.enum(['basic', 'ext1', 'ext2', 'ext3']))
    .min(1)
    .optional(),
  driLevel: z.number().int().min(0).max(0x7c).optional(),
  renewAfterMs: z.number().int().min(1000).max(3_600_000).optional(),
  refreshEveryMs: z.number().int().min(0).max(86_400_000).optional(),
});

/** Session option schemas by protocol id; a protocol absent here takes no `session:` key. */
export const SESSION_SCHEMAS: Readonly<Record<string, z.ZodType>> = { datex: datexSessionSchema };

/** Problems of a device's `session:` value, with paths relative to it. */
export function sessionIssues(protocol: string, value: unknown): { path: (string | number)[]; message: string }[] {
  const schema = SESSION_SCHEMAS[protocol];
  if (!schema) return [{ path: [], message: `protocol '${protocol}' runs no session: remove the key` }];
  const r = schema.safeParse(value);
  return r.success
    ? []
    : r.error.issues.map((i) => ({
        path: i.path.filter((p): p is string | number => typeof p !== 'symbol'),
        message: i.message,
      }));
}
