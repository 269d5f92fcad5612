/**
 * Provenance across services: http/https servers and clients, fetch and raw TCP/TLS sockets,
 * with signed provenant baggage between trusted peers.
 */
import type { Instrumentation, InstrumentationContext } from '../instrumentation.js';
import { ProvenancePropagator } from '../../propagation/propagator.js';
import { enableClientFlows } from './http-client.js';
import { enableFetchFlows } from './fetch.js';
import { enableServerFlows } from './http-server.js';
import { Patches } from './patches.js';
import { PeerFlows } from './peer-flows.js';
import { enableSocketFlows } from './socket.js';

export class NetworkInstrumentation implements Instrumentation {
  readonly name = 'net';
  private readonly patches = new Patches();

  enable(context: InstrumentationContext): void {
    const { engine, config } = context;
    const propagator = new ProvenancePropagator({
      service: context.service,
      location: config.location,
      key: context.signingKey,
      peers: config.trust.peers,
      maxAgeSeconds: config.trust.maxAgeSeconds,
    });
    const flows = new PeerFlows(engine, propagator);
    enableSocketFlows(engine, this.patches);
    enableServerFlows(engine, flows, this.patches);
    enableClientFlows(engine, flows, this.patches);
    enableFetchFlows(engine, flows, this.patches);
  }

  disable(): void {
    this.patches.restoreAll();
  }
}
