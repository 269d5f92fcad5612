/**
 * V8's code cache of the bundle kept on disk for the next process: every process under the preload
 * (each test file of a suite, each child a tool spawns) otherwise parses and compiles the
 * half-megabyte bundle again, a third of the preload's start-up. The cache is made after start-up,
 * so it holds the functions a start runs, and is written once per bundle file and Node build.
 *
 * It lives in `<state dir>/code-cache/`, the state dir named by the environment (as the runtime
 * resolves it), and only when that folder exists already: a config that puts the state elsewhere
 * leaves no folder behind at the default place. Its name carries the bundle's identity (size,
 * mtime, inode), Node's version and the architecture; V8 rejects a cache made by other flags or
 * another build, and such a cache is replaced; writing one removes those of other builds. Only a
 * cache: any failure is ignored.
 *
 * The fs functions are taken before the preload patches fs: writing provenant's own cache is not
 * the app's flow.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type vm from 'node:vm';

const fs = { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync };

export class BundleDiskCache {
  private consulted = false;
  private found = false;

  /** `stateDir`: the state dir the environment names (config/state-dir.ts). */
  constructor(
    private readonly bundle: string,
    private readonly stateDir: string,
  ) {}

  /** The stored cache for the bundle with this identity, if any. */
  read(identity: string): Uint8Array | undefined {
    this.consulted = true;
    try {
      const data = fs.readFileSync(this.fileFor(identity));
      this.found = true;
      return data;
    } catch {
      return undefined;
    }
  }

  /** After start-up: store the compiled bundle when no usable cache was read. */
  saveAfterStart(compiled: { readonly identity: string; readonly script: vm.Script } | undefined): void {
    if (!this.consulted || compiled === undefined) return;
    if (this.found && compiled.script.cachedDataRejected !== true) return;
    try {
      if (!fs.existsSync(this.stateDir)) return;
      const file = this.fileFor(compiled.identity);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // Written aside and renamed into place: a process starting meanwhile reads a whole cache or none.
      const partial = `${file}.${String(process.pid)}.tmp`;
      const fd = fs.openSync(partial, 'w', 0o600);
      try {
        const data = compiled.script.createCachedData();
        fs.writeSync(fd, data, 0, data.length);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(partial, file);
      // The caches of earlier builds of the bundle or of Node are of no more use: one file stays.
      const prefix = `${path.basename(this.bundle)}-`;
      for (const name of fs.readdirSync(path.dirname(file)))
        if (name.startsWith(prefix) && name !== path.basename(file)) fs.rmSync(path.join(path.dirname(file), name), { force: true });
    } catch {
      // Only a cache: the next start compiles the bundle as this one did.
    }
  }

  private fileFor(identity: string): string {
    const name = `${path.basename(this.bundle)}-${identity.replaceAll(/[^0-9A-Za-z]+/g, '-')}-${process.version}-${process.arch}.v8`;
    return path.join(this.stateDir, 'code-cache', name);
  }
}
