/**
 * `child_process`: every asynchronous form (spawn, exec, execFile, fork) ends in
 * `ChildProcess.prototype.spawn`, so that one method is the deny point for all of them; the sync
 * forms (spawnSync, execFileSync, execSync) call Node's internal spawn directly and are wrapped one
 * by one. A denied spawn starts nothing: the async forms fail as a missing executable fails
 * ('error' on the next tick, the callback of exec/execFile gets it), spawnSync returns it as
 * `error`, execFileSync/execSync throw it.
 */
import type childProcessModule from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ProvenanceDeniedError } from '../../errors.js';
import { isInternal } from '../../support/reentrancy.js';
import { sizeOf } from '../fs/flows.js';
import { decideAs } from '../net/socket-flow.js';
import type { Patcher } from '../patcher.js';
import type { ChildFlow, ChildFlows } from './child-flows.js';
import { guardChannel } from './ipc-channel.js';
import type { ChildSpec } from './node-child.js';

/** What `ChildProcess.prototype.spawn` receives from Node's argument normalisation. */
interface InternalSpawnOptions {
  file: string;
  /** argv, argv[0] included. */
  args?: string[];
  envPairs?: string[];
  cwd?: string;
}

type InternalChild = childProcessModule.ChildProcess;
type InternalSpawn = (this: InternalChild, options: InternalSpawnOptions) => unknown;

/** A path no system has: the OS refuses to execute it (ENOENT). */
const DENIED_EXECUTABLE = '/nonexistent/provenant-denied-spawn';
const SYNC_FORMS = ['spawnSync', 'execFileSync', 'execSync'] as const;

/** `childProcess`: the module object itself (not an ES namespace copy), so patches reach every user of it. */
export function patchChildProcess(childProcess: typeof childProcessModule, flows: ChildFlows, patcher: Patcher): void {
  // `spawn` is not in the public typings: Node's own method every async form calls.
  const prototype = childProcess.ChildProcess.prototype as unknown as { spawn: InternalSpawn };
  patcher.wrap(
    prototype,
    'spawn',
    (original) =>
      function spawn(this: InternalChild, options: InternalSpawnOptions): unknown {
        if (isInternal() || typeof options !== 'object' || options === null || typeof options.file !== 'string') {
          return Reflect.apply(original, this, [options]);
        }
        const env = fromPairs(options.envPairs);
        const outcome = flows.spawn({ file: options.file, args: options.args?.slice(1) ?? [], env, cwd: options.cwd ?? process.cwd() });
        if ('denied' in outcome) return failSpawn(this, original, options, outcome.denied);
        if (outcome.env !== env) options.envPairs = toPairs(outcome.env);
        const result: unknown = Reflect.apply(original, this, [options]);
        watchChild(this, outcome.flow, flows);
        return result;
      },
  );
  for (const form of SYNC_FORMS) {
    patcher.wrapMethod(
      childProcess,
      form,
      (original) =>
        function (this: unknown, ...args: unknown[]): unknown {
          const call = isInternal() ? undefined : syncCall(form, args);
          if (call === undefined) return Reflect.apply(original, this, args);
          const outcome = flows.spawn(call.spec);
          if ('denied' in outcome) {
            if (form !== 'spawnSync') throw outcome.denied;
            return { pid: 0, output: null, stdout: null, stderr: null, status: null, signal: null, error: outcome.denied };
          }
          const result: unknown = Reflect.apply(original, this, call.withEnv(outcome.env));
          flows.output(outcome.flow, outputBytes(result));
          return result;
        },
    );
  }
}

/**
 * Fail the spawn as a missing executable fails: Node's own spawn runs with an executable that
 * does not exist, no arguments and an empty environment, so no program starts and nothing of
 * the data is handed over, while the child object behaves exactly as after ENOENT ('error' on the
 * next tick, then 'close'; a fork's channel disconnects). Its one 'error' event carries the denial.
 */
function failSpawn(child: InternalChild, original: InternalSpawn, options: InternalSpawnOptions, denied: ProvenanceDeniedError): unknown {
  const emit = child.emit;
  child.emit = function (this: InternalChild, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'error') return Reflect.apply(emit, this, [event, ...args]) as boolean;
    child.emit = emit;
    return Reflect.apply(emit, this, ['error', denied]) as boolean;
  };
  const file = options.file;
  const args = options.args;
  try {
    return Reflect.apply(original, child, [{ ...options, file: DENIED_EXECUTABLE, args: [args?.[0] ?? file], envPairs: [] }]);
  } finally {
    // What the app asked for, as after a real ENOENT.
    Object.assign(child, { spawnfile: file, spawnargs: args ?? [] });
  }
}

/** stdin and IPC are flows to the child; stdout, stderr and IPC messages from it are reads. */
function watchChild(child: InternalChild, flow: ChildFlow, flows: ChildFlows): void {
  // Every pipe to the child (stdin, extra 'pipe' entries) takes the child's decision at each level
  // a socket write is decided at; what comes out of stdout and stderr is read at `push`.
  for (const pipe of child.stdio) decideAs(pipe, flow.resource, flow.attributes, () => flows.input(flow, undefined));
  for (const output of [child.stdout, child.stderr]) if (output) recordOutput(output, flow, flows);
  if (typeof child.send === 'function') {
    child.send = guardChannel(child, flow, flows)(child.send) as InternalChild['send'];
    const emit = child.emit;
    child.emit = function (this: InternalChild, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'message') flows.output(flow, undefined);
      return Reflect.apply(emit, this, [event, ...args]) as boolean;
    };
  }
}

/** Every chunk the child's pipe delivers passes through `push`, whether or not the app listens. */
function recordOutput(output: Readable, flow: ChildFlow, flows: ChildFlows): void {
  const push = output.push;
  output.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null && chunk !== undefined) flows.output(flow, sizeOf(chunk));
    return Reflect.apply<Readable, [unknown, BufferEncoding | undefined], boolean>(push, this, [chunk, encoding]);
  };
}

interface SyncCall {
  readonly spec: ChildSpec;
  /** The call's arguments with `env` as the child's environment. */
  withEnv(env: Readonly<Record<string, string | undefined>>): unknown[];
}

/** The child a sync call starts, resolved as Node resolves it (a shell for execSync and `shell: true`). */
function syncCall(form: (typeof SYNC_FORMS)[number], args: unknown[]): SyncCall | undefined {
  const [first, second] = args;
  if (typeof first !== 'string') return undefined;
  let optionsIndex = 1;
  let file = first;
  let fileArgs: string[] = [];
  if (form !== 'execSync') {
    if (Array.isArray(second)) {
      fileArgs = second.map(String);
      optionsIndex = 2;
    } else if (second === null || second === undefined) {
      optionsIndex = 2;
    }
  }
  const given = args[optionsIndex];
  const options = typeof given === 'object' && given !== null ? (given as { env?: NodeJS.ProcessEnv; cwd?: unknown; shell?: unknown }) : {};
  const shell = form === 'execSync' ? (options.shell ?? true) : options.shell;
  if (shell !== undefined && shell !== false) {
    fileArgs = ['-c', [file, ...fileArgs].join(' ')];
    file = typeof shell === 'string' ? shell : '/bin/sh';
  }
  const env = options.env ?? process.env;
  const cwd = typeof options.cwd === 'string' ? options.cwd : process.cwd();
  return {
    spec: { file, args: fileArgs, env, cwd },
    withEnv(childEnv) {
      if (childEnv === env) return args;
      const copy = [...args];
      copy[optionsIndex] = { ...options, env: childEnv };
      return copy;
    },
  };
}

function fromPairs(pairs: readonly string[] | undefined): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function toPairs(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]));
}

function outputBytes(result: unknown): number | undefined {
  if (typeof result === 'string' || ArrayBuffer.isView(result)) return sizeOf(result);
  if (typeof result !== 'object' || result === null) return undefined;
  const { stdout, stderr } = result as { stdout?: unknown; stderr?: unknown };
  return (sizeOf(stdout) ?? 0) + (sizeOf(stderr) ?? 0);
}
