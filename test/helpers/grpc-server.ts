// A real grpc-js server for gRPC flow tests: unary methods on raw bytes at the paths it is given;
// a server interceptor notes each call as its headers arrive (path, and the caller's address and
// port, i.e. its connection), each handler the body it received; a net.Server in front counts
// TCP connections (grpc-js does not expose its sockets).
import { once } from 'node:events';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';

export interface GrpcServer {
  /** `host:port` for a grpc-js client. */
  readonly target: string;
  readonly port: number;
  /** Calls whose headers arrived, in order. */
  readonly started: { path: string; peer: string }[];
  /** Bodies the handlers received (latin1), in order. */
  readonly bodies: { path: string; body: string }[];
  readonly connections: number;
  reset(): void;
  close(): Promise<void>;
}

/** A unary method on raw bytes. */
const method = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: (bytes: Buffer) => bytes,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: (bytes: Buffer) => bytes,
  responseDeserialize: (bytes: Buffer) => bytes,
});

/** Serves each of `paths` (`/package.Service/Method`), answering an empty message (an empty OTLP ExportServiceResponse, too). */
export async function startGrpcServer(paths: readonly string[]): Promise<GrpcServer> {
  const started: { path: string; peer: string }[] = [];
  const bodies: { path: string; body: string }[] = [];
  let connections = 0;
  const server = new grpc.Server({
    interceptors: [
      (descriptor, call) => {
        started.push({ path: descriptor.path, peer: call.getPeer() });
        return new grpc.ServerInterceptingCall(call);
      },
    ],
  });
  for (const path of paths)
    server.addService(
      { call: method(path) },
      {
        call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          bodies.push({ path, body: call.request.toString('latin1') });
          callback(null, Buffer.alloc(0));
        },
      },
    );
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const listener = net.createServer((socket) => {
    connections++;
    injector.injectConnection(socket);
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as net.AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    port,
    started,
    bodies,
    get connections() {
      return connections;
    },
    reset() {
      started.length = 0;
      bodies.length = 0;
      connections = 0;
    },
    close() {
      server.forceShutdown();
      return new Promise<void>((done) => listener.close(() => done()));
    },
  };
}
