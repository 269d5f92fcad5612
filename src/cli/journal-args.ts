/** Argument helpers shared by the journal commands (verify, lineage, query, stats). */
import { resolveStateDir } from '../config/state-dir.js';

/** `--state DIR` (repeatable), `--json`, `--help`: spread into each command's parseArgs options. */
export const commonOptions = {
  state: { type: 'string', multiple: true },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const STATE_HELP =
  '  --state DIR     state dir to read (repeatable; default $PROVENANT_STATE_DIR, else $XDG_STATE_HOME/provenant, else ~/.local/state/provenant)';

/** `--since T --until T`: spread into parseArgs options; read back with `timeWindow()`. */
export const windowOptions = { since: { type: 'string' }, until: { type: 'string' } } as const;

export function timeWindow(values: { since?: string | undefined; until?: string | undefined }): {
  since: number | undefined;
  until: number | undefined;
} {
  return {
    since: values.since === undefined ? undefined : parseTime(values.since),
    until: values.until === undefined ? undefined : parseTime(values.until),
  };
}

export function stateDirs(state: string[] | undefined): string[] {
  return state && state.length > 0 ? state.map((dir) => resolveStateDir({}, dir)) : [resolveStateDir(process.env)];
}

/** Runs a command body, turning argument errors into usage output and exit code 64. */
export async function withUsage(usage: string, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`provenant: ${(error as Error).message}\n\n${usage}\n`);
      return 64;
    }
    throw error;
  }
}

export class UsageError extends Error {}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** ISO 8601 time, epoch milliseconds, or a duration back from now (`90s`, `10m`, `2h`, `1d`, `1w`). */
export function parseTime(text: string, now = Date.now()): number {
  const relative = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (relative) return now - Number(relative[1]) * UNITS[relative[2]];
  if (/^\d{12,}$/.test(text)) return Number(text);
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new UsageError(`cannot read time "${text}" (use ISO 8601 or a duration like 10m, 2h, 1d)`);
  return time;
}

export function parsePositiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

export function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
