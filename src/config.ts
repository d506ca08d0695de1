/**
 * The one place that reads process.env. A wrong setting stops the start with one line that names the
 * variable, because a tip line that half-works (no persistence, wrong keys) loses or leaks tips.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const bool = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');
const bytes = z.coerce.number().int().positive();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: z.string().regex(/^(rediss?|unix):\/\//, 'must start with redis://, rediss:// or unix://'),
  KEYS_DIR: z.string().default('./keys'),
  UPLOADS_DIR: z.string().default('./uploads'),
  INBOX_DIR: z.string().default('./inbox'),
  DEMO_KEY_DIR: z.string().default('./demo-editor'),
  SCRATCH_DIR: z.string().default('/dev/shm/buzon'),
  SCRATCH_ALLOW_DISK: bool.default(false),
  MAX_FILE_BYTES: bytes.default(2 * 1024 ** 3),
  MAX_TIP_BYTES: bytes.default(2 * 1024 ** 3),
  MAX_FILES: z.coerce.number().int().min(0).default(20),
  MAX_NOTE_CHARS: z.coerce.number().int().min(0).default(100_000),
  MAX_LINKS: z.coerce.number().int().min(0).default(100),
  /** On SIGTERM, how long tips in flight may take to finish before the process exits. */
  DRAIN_SECONDS: z.coerce.number().positive().default(25),
  OUTBOX_SWEEP_SECONDS: z.coerce.number().positive().default(30),
  /** Global budgets, never per client (see src/intake/abuse/gate.ts). */
  TIPS_PER_MINUTE: z.coerce.number().int().positive().default(60),
  NOJS_TIPS_PER_MINUTE: z.coerce.number().int().min(0).default(20),
  BARE_TIPS_PER_MINUTE: z.coerce.number().int().min(0).default(5),
  NOJS_MIN_SECONDS: z.coerce.number().min(0).default(10),
  POW_BASE_COUNTER: z.coerce.number().int().positive().default(3000),
  BYTES_IN_FLIGHT_MAX: bytes.default(8 * 1024 ** 3),
  /** Signs tickets and challenges; random at each start unless set (set it when running several intakes). */
  ABUSE_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Seal big files in worker threads: frees the event loop for note tips, costs ~170 MiB of RAM. */
  SEAL_THREADS: bool.default(false),
  /**
   * A fast-start MP4/MOV sent first in a tip is remuxed and sealed while it uploads; kept only when
   * it provably matches the ordinary cleaning (src/sanitize/video-early-check.ts). `0` turns it off.
   */
  STREAM_WHILE_UPLOADING: bool.default(true),
  /**
   * Who seals videos: `gpg` (a child process, ~2× faster, off the event loop; start fails when it
   * cannot), `openpgp` (openpgp.js in process), or `auto`: gpg when installed and it passes the
   * start-up check (src/crypto/seal-gpg.ts), else openpgp.js. Notes and photos always use openpgp.js.
   */
  BULK_SEALER: z.enum(['auto', 'gpg', 'openpgp']).default('auto'),
  /**
   * The editorial worker's CPU niceness (0–19): tipsters first. Under a burst the worker yields the
   * cores to the intake and its queue absorbs the difference; it catches up when the burst ends.
   */
  WORKER_NICE: z.coerce.number().int().min(0).max(19).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
  /** Resumable uploads in progress, encrypted under keys held only in memory; emptied at start. */
  PARTIALS_DIR: z.string().default('./partials'),
  /** Our .onion address, announced to Tor Browser with the Onion-Location header. */
  ONION_LOCATION: z.string().regex(/^https?:\/\/[a-z2-7]{56}\.onion(\/.*)?$/, 'must be an http(s)://….onion URL').optional(),
  /** The newsroom's look: a folder with brand.json and a logo; each BRAND_* below overrides it. */
  BRANDING_DIR: z.string().default('./branding'),
  BRAND_NAME: z.string().max(80).optional(),
  BRAND_ACCENT: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #0b6e4f').optional(),
  BRAND_LOGO: z.string().optional(),
  BRAND_INTRO_ES: z.string().max(2000).optional(),
  BRAND_INTRO_EN: z.string().max(2000).optional(),
});

export type Config = Readonly<z.infer<typeof schema>>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", as in a .env file with `PORT=`.
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(clean);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'config');
    throw new ConfigError(`${name}: ${issue?.message ?? 'invalid'}`);
  }
  const c = parsed.data;
  return Object.freeze({
    ...c,
    KEYS_DIR: resolve(c.KEYS_DIR),
    UPLOADS_DIR: resolve(c.UPLOADS_DIR),
    INBOX_DIR: resolve(c.INBOX_DIR),
    DEMO_KEY_DIR: resolve(c.DEMO_KEY_DIR),
    SCRATCH_DIR: resolve(c.SCRATCH_DIR),
    PARTIALS_DIR: resolve(c.PARTIALS_DIR),
    BRANDING_DIR: resolve(c.BRANDING_DIR),
  });
}
