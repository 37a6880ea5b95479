import { describe, expect, it } from 'vitest';
import { allocatorOf, currentAllocator } from './allocator.js';

// /proc/<pid>/maps lines as Linux writes them (address, perms, offset, dev, inode, path).
const GLIBC = [
  '55d0c8a00000-55d0c8a21000 rw-p 00000000 00:00 0                          [heap]',
  '7f3b2c000000-7f3b2c028000 r--p 00000000 08:01 1835     /usr/lib/x86_64-linux-gnu/libc.so.6',
].join('\n');
const JEMALLOC = `${GLIBC}\n7f3b2d200000-7f3b2d20c000 r--p 00000000 08:01 2214     /usr/lib/x86_64-linux-gnu/libjemalloc.so.2`;

describe('allocatorOf', () => {
  it('names jemalloc only when its library is mapped', () => {
    expect(allocatorOf(JEMALLOC)).toBe('jemalloc');
    expect(allocatorOf(GLIBC)).toBe('glibc');
    // A path that merely mentions it (a file named so, not the library) is not the allocator.
    expect(allocatorOf(`${GLIBC}\n7f3b2d200000-7f3b2d20c000 r--p 00000000 08:01 9 /tmp/libjemalloc.so.2.txt`)).toBe(
      'glibc',
    );
    expect(allocatorOf(null)).toBe('unknown');
  });

  it("reads this process's own map (the test runner is not preloaded)", () => {
    expect(currentAllocator()).toBe(process.env['LD_PRELOAD']?.includes('jemalloc') ? 'jemalloc' : 'glibc');
  });
});
