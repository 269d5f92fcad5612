/**
 * Processes: data handed to child processes (`child_process`, every form) and written to this
 * process's stdout and stderr; in enforce mode, the ways into this process beneath the patches
 * (the inspector, V8's natives: introspection.ts; `process.binding`: raw-bindings.ts). See child-process.ts and stdio.ts. `child_process` is patched as it
 * is first loaded, not at preload (builtin-loads.ts).
 */
import type childProcess from 'node:child_process';
import { whenBuiltinLoaded } from '../builtin-loads.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation.js';
import { Patcher } from '../patcher.js';
import { ChildFlows } from './child-flows.js';
import { patchChildProcess } from './child-process.js';
import { guardChannel } from './ipc-channel.js';
import { guardIntrospection } from './introspection.js';
import { guardBindings } from './raw-bindings.js';
import { patchStdio } from './stdio.js';

export class ProcessInstrumentation implements Instrumentation {
  readonly name = 'process';
  private readonly patcher = new Patcher();

  enable(context: InstrumentationContext): void {
    const { engine, config } = context;
    const flows = new ChildFlows(engine, context.childClaims, {
      configFile: config.file,
      mode: config.mode,
      registerModule: context.registerModule,
    });
    whenBuiltinLoaded(this.patcher, 'child_process', (loaded) => patchChildProcess(loaded as typeof childProcess, flows, this.patcher));
    // A forked child: its process.send goes to the parent.
    if (typeof process.send === 'function') {
      const parent = flows.parent(context.childOfProvenant ? engine.contexts.process.provenance : undefined);
      this.patcher.wrapMethod(process, 'send', guardChannel(process, parent, flows));
    }
    patchStdio(context.stdio, this.patcher);
    const refuse =
      config.mode === 'enforce'
        ? (what: string) =>
            engine.refuse(engine.resources.process(process.pid), {
              kind: 'deny',
              rule: 'introspection',
              reason: `${what} reaches beneath every mediated API; it is refused in enforce mode`,
            })
        : undefined;
    guardBindings(this.patcher, refuse);
    if (refuse !== undefined) guardIntrospection(this.patcher, refuse);
  }

  disable(): void {
    this.patcher.restoreAll();
  }
}
