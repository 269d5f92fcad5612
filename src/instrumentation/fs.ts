/**
 * fs instrumentation: every byte an app moves through `fs` (sync, callback, promise,
 * FileHandle and stream forms; ESM named imports see the same functions once the runtime
 * syncs the built-in exports) is a recorded flow, and every write is checked before the first
 * byte moves. Module loading and provenant's own I/O are not flows; the app's writes to
 * provenant's config, keys and state dir are denied (fs/self-protection.ts).
 */
// The module object itself (not an ES namespace copy), so patches reach every user of fs.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import fs = require('node:fs');
import type { Instrumentation, InstrumentationContext } from './instrumentation.js';
import { patchCallbackApi } from './fs/callback-api.js';
import { FsFlows } from './fs/flows.js';
import { Patcher } from './patcher.js';
import { patchPromiseApi } from './fs/promise-api.js';
import { patchSyncApi } from './fs/sync-api.js';
import { patchWriteStream } from './fs/write-stream.js';
import { mediateArmedDumps, refuseNearHeapLimit } from './fs/armed-dumps.js';
import { patchHeapSnapshots, patchReports } from './fs/dumps.js';
import { whenBuiltinLoaded } from './builtin-loads.js';
import { SelfProtection } from './fs/self-protection.js';
import { WaitingWrites } from './fs/waiting-writes.js';

export class FsInstrumentation implements Instrumentation {
  readonly name = 'fs';
  private patcher: Patcher | undefined;

  enable(context: InstrumentationContext): void {
    if (this.patcher) return;
    const protection = new SelfProtection(context.protectedPaths);
    const flows = new FsFlows(context.engine, protection, context.stdio, context.config.journal.contentHash !== 'none');
    const patcher = new Patcher();
    this.patcher = patcher;
    const waiting = new WaitingWrites(flows);
    const syncTwins = { write: fs.writeSync, writev: fs.writevSync };
    patchSyncApi(fs, flows, patcher, waiting);
    patchCallbackApi(fs, flows, patcher, waiting, syncTwins);
    // fs.promises is the very object `fs/promises` exports, patched as its module first loads
    // (builtin-loads.ts; a FileHandle received from another thread loads it too): reading
    // `fs.promises` here loaded it, and readline with it, in every thread (~0.8 ms of a worker's start).
    whenBuiltinLoaded(
      patcher,
      'internal/fs/promises',
      (promises) => context.transfers.onFileHandle(patchPromiseApi(promises as typeof fs.promises, flows, patcher)),
      () => fs.promises,
    );
    // The stream classes' module (which loads the promises one) as it first loads.
    whenBuiltinLoaded(
      patcher,
      'internal/fs/streams',
      () => patchWriteStream(fs, flows, patcher),
      () => fs,
    );
    patchReports(process.report, flows, patcher);
    const armed = { enforce: context.config.mode === 'enforce', refuse: (what: string) => flows.nativeDumpRefused(what) };
    mediateArmedDumps(process.report, patcher, armed);
    // node:v8 as it first loads (builtin-loads.ts): most apps never load it.
    whenBuiltinLoaded(patcher, 'v8', (v8) => {
      patchHeapSnapshots(v8 as object, flows, patcher);
      refuseNearHeapLimit(v8 as object, patcher, armed);
    });
  }

  disable(): void {
    this.patcher?.restoreAll();
    this.patcher = undefined;
  }
}
