// aedes-persistence-redis ships no typings. Only what broker/cluster.ts uses is declared.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';
  interface RedisPersistenceOptions {
    conn?: Redis;
    /** Packets a reconnecting persistent session is sent at most per restore (default 1000). */
    maxSessionDelivery?: number;
    packetTTL?: () => number;
  }
  interface RedisPersistence {
    setup(broker: unknown): Promise<void>;
    destroy(): Promise<void>;
  }
  export default function persistence(opts?: RedisPersistenceOptions): RedisPersistence;
}
