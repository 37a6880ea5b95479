// Which malloc the central runs on. glibc's keeps most of each TLS connection's native buffers resident; jemalloc,
// preloaded by the systemd unit and the container image, does not (docs/broker.md "Memory per idle connection").
// A missing library is only a warning from ld.so, so the central says at start which one it got.
import { readFileSync } from 'node:fs';

export type Allocator = 'jemalloc' | 'glibc' | 'unknown';

/** The allocator mapped into a process, from its /proc/<pid>/maps text (Linux); 'unknown' elsewhere. */
export function allocatorOf(maps: string | null): Allocator {
  if (maps === null) return 'unknown';
  return /\/libjemalloc\.so[.\d]*$/m.test(maps) ? 'jemalloc' : 'glibc';
}

/** This process's allocator. */
export function currentAllocator(): Allocator {
  let maps: string | null = null;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    // not Linux: no /proc
  }
  return allocatorOf(maps);
}
