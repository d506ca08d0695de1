/** Connection options for ioredis/BullMQ from REDIS_URL (redis://, rediss:// or unix:///path). */
import type { RedisOptions } from 'ioredis';

export function redisOptions(url: string): RedisOptions {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableOfflineQueue: false };
  if (url.startsWith('unix://')) return { ...base, path: url.slice('unix://'.length) };
  const u = new URL(url);
  return {
    ...base,
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}
