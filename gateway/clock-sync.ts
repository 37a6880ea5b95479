// Is the gateway's own clock synchronised? systemd's timedated answers for systemd-timesyncd and chrony alike
// (NTPSynchronized reads the kernel's STA_UNSYNC state). Without timedatectl (containers) the answer is "no":
// an unknown clock is reported as unsynchronised, never as synchronised.
import { execFile } from 'node:child_process';

export type ClockSyncSource = 'auto' | 'timedatectl' | 'none';

/** A named limit: the probe never waits longer than this. */
export const CLOCK_PROBE_TIMEOUT_MS = 2000;

export function probeClockSync(source: ClockSyncSource): Promise<boolean> {
  if (source === 'none') return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile(
      'timedatectl',
      ['show', '-p', 'NTPSynchronized', '--value'],
      { timeout: CLOCK_PROBE_TIMEOUT_MS },
      (err, stdout) => {
        resolve(!err && String(stdout).trim() === 'yes');
      },
    );
  });
}
