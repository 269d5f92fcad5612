/**
 * Provenance across services: http/https servers and clients, fetch and raw TCP/TLS sockets,
 * with signed provenant baggage between trusted peers. Enabled as the first network built-in
 * loads in this thread (`net`, `tls`, `http`, `https`, `dns`: builtin-loads.ts), before any of
 * them is returned to anyone, not at preload: a process or worker that never touches the network
 * does not load them (~4–5 ms of every thread's start). The modules below take them then.
 */
import { NETWORK_BUILTINS, whenFirstLoaded } from '../builtin-loads.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation.js';
import { AppTelemetry } from './app-telemetry.js';
import { scopeDetectors } from './detector-scope.js';
import { enableClientFlows } from './http-client.js';
import { enableFetchFlows } from './fetch.js';
import { enableServerFlows } from './http-server.js';
import { Patcher } from '../patcher.js';
import { PeerFlows } from './peer-flows.js';
import { enableMediatedWrites } from './mediated-writes.js';
import { enableSocketFlows } from './socket.js';

export class NetworkInstrumentation implements Instrumentation {
  readonly name = 'net';
  private readonly patcher = new Patcher();

  enable(context: InstrumentationContext): void {
    whenFirstLoaded(this.patcher, NETWORK_BUILTINS, () => this.patch(context));
  }

  private patch(context: InstrumentationContext): void {
    const { engine } = context;
    const flows = new PeerFlows(engine, context.peers);
    // Sockets first: the HTTP servers' emit wrappers sit on top of net.Server's.
    enableSocketFlows(engine, this.patcher, context.grpcTelemetry);
    enableMediatedWrites(this.patcher);
    enableServerFlows(engine, flows, this.patcher);
    const telemetry = new AppTelemetry(context.telemetry, context.grpcTelemetry, (protocol, host, port) =>
      engine.resources.http(protocol, host, port),
    );
    scopeDetectors(this.patcher);
    enableClientFlows(engine, flows, this.patcher, telemetry);
    enableFetchFlows(engine, flows, this.patcher);
  }

  disable(): void {
    this.patcher.restoreAll();
  }
}
