// Run real Node processes, optionally with provenant's preload from the built output (dist/).
// Tests exercise what users run, so `npm test` builds before vitest starts.
import { type ChildProcess, spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// __dirname (not import.meta): vitest provides both, and the package is CommonJS, so a nodenext
// type-check treats these files as CommonJS.
export const repoRoot = path.resolve(__dirname, '..', '..');
export const distRegister = path.join(repoRoot, 'dist', 'register.js');
export const distCli = path.join(repoRoot, 'dist', 'cli', 'main.js');

/**
 * Node 24 from the `node` devDependency (the system node may be older than engines.node), or
 * PROVENANT_TEST_NODE (scripts/test-node22.sh runs some suites on the oldest Node engines allows).
 */
export const nodeBin = ((): string => {
  const chosen = process.env.PROVENANT_TEST_NODE;
  if (chosen !== undefined && chosen !== '') return chosen;
  try {
    return realpathSync(path.join(repoRoot, 'node_modules', '.bin', 'node'));
  } catch {
    return process.execPath;
  }
})();

export type Preload = 'require' | 'import' | 'none';

export interface NodeOptions {
  /** Arguments after the preload flags: a script path and its arguments, or e.g. ['-e', code]. */
  args: string[];
  cwd?: string;
  /** Applied on top of the cleaned environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** 'require' → `-r dist/register.js`, 'import' → `--import <file URL>`. Default 'none'. */
  preload?: Preload;
}

export interface RunNodeOptions extends NodeOptions {
  /** Written to stdin, which is then closed (stdin is closed at once without it). */
  input?: string;
  /** The process is SIGKILLed and runNode rejects after this long. Default 20 s. */
  timeoutMs?: number;
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunResult extends ExitResult {
  stdout: string;
  stderr: string;
}

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Complete lines written to stdout so far. */
  readonly stdoutLines: string[];
  /** Resolves with the match of the first stdout line matching `pattern` (also lines already seen). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Settles when the process has exited and its output is fully read. */
  readonly exited: Promise<ExitResult>;
  /** Sends `signal` (default SIGTERM) and resolves on exit; escalates to SIGKILL after killAfterMs. */
  kill(signal?: NodeJS.Signals, killAfterMs?: number): Promise<ExitResult>;
}

const live = new Set<ChildProcess>();

/**
 * process.env without OTEL_* and PROVENANT_* (so the developer's own settings do not leak into
 * tests) and without NODE_OPTIONS (a test that wants it sets it explicitly), plus `overrides`.
 */
export function cleanEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('OTEL_') || key.startsWith('PROVENANT_') || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function preloadArgs(preload: Preload = 'none'): string[] {
  switch (preload) {
    case 'require':
      return ['-r', distRegister];
    case 'import':
      return ['--import', pathToFileURL(distRegister).href];
    case 'none':
      return [];
  }
}

interface Spawned {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<ExitResult>;
}

function spawnNode(options: NodeOptions): Spawned {
  const child = spawn(nodeBin, [...preloadArgs(options.preload), ...options.args], {
    cwd: options.cwd ?? repoRoot,
    env: cleanEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  // A child that exits without reading stdin must not turn into an EPIPE error here.
  child.stdin.on('error', () => {});
  const exited = new Promise<ExitResult>((resolve, reject) => {
    child.once('error', (error) => {
      live.delete(child);
      reject(error);
    });
    // 'close' (not 'exit') so that stdout/stderr are complete when the promise settles.
    child.once('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, output, exited };
}

function describeOutput(output: { stdout: string; stderr: string }): string {
  return `\n--- stdout ---\n${output.stdout}\n--- stderr ---\n${output.stderr}`;
}

/** Runs a Node process to completion and returns its exit status and output. */
export async function runNode(options: RunNodeOptions): Promise<RunResult> {
  const { child, output, exited } = spawnNode(options);
  child.stdin!.end(options.input ?? '');
  const timeoutMs = options.timeoutMs ?? 20_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const result = await exited;
    if (timedOut) {
      throw new Error(`node ${options.args.join(' ')} did not exit within ${timeoutMs} ms${describeOutput(output)}`);
    }
    return { ...result, ...output };
  } finally {
    clearTimeout(timer);
  }
}

/** Starts a long-running Node process (a server, say); stop it with kill() or stopAll(). */
export function startNode(options: NodeOptions): NodeProcess {
  const { child, output, exited } = spawnNode(options);
  let result: ExitResult | undefined;
  // Keep a rejection of `exited` from going unhandled when nobody awaits it.
  exited.then(
    (r) => (result = r),
    () => {},
  );

  const lines = (): string[] => {
    const all = output.stdout.split('\n');
    all.pop(); // the unterminated tail, if any
    return all;
  };

  return {
    child,
    exited,
    get stdout() {
      return output.stdout;
    },
    get stderr() {
      return output.stderr;
    },
    get stdoutLines() {
      return lines();
    },
    waitForLine(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        let settled = false;
        const settle = (outcome: () => void): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          child.stdout!.off('data', check);
          outcome();
        };
        const check = (): void => {
          for (const line of lines()) {
            const match = line.match(pattern);
            if (match) return settle(() => resolve(match));
          }
        };
        const fail = (why: string): void => settle(() => reject(new Error(`${why}${describeOutput(output)}`)));
        const onExit = (): void => {
          check();
          fail(`process exited before printing a line matching ${pattern}`);
        };
        const timer = setTimeout(() => fail(`no stdout line matched ${pattern} within ${timeoutMs} ms`), timeoutMs);
        child.stdout!.on('data', check);
        exited.then(onExit, onExit);
        check();
      });
    },
    async kill(signal = 'SIGTERM', killAfterMs = 10_000) {
      if (result) return result;
      child.kill(signal);
      const escalate = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      try {
        return await exited;
      } finally {
        clearTimeout(escalate);
      }
    },
  };
}

/** SIGKILLs every process started by runNode/startNode that is still running; for afterAll. */
export async function stopAll(): Promise<void> {
  const children = [...live];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** The built `provenant` CLI run with `args`, as users run it. */
export function runCli(...args: string[]): Promise<RunResult> {
  return runNode({ args: [distCli, ...args] });
}
