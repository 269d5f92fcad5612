// `npm run build && node bench/otel-citizen.mjs`: what living beside an app's own OpenTelemetry
// costs. Per incoming HTTP request, the one-shot 'request' listener that records the caller's
// read inside every emit wrapper; per request to an OTLP endpoint origin (and per read of
// /etc/machine-id), the call-stack check that ties the exemption to the exporter or detector;
// per outgoing connection and HTTP/2 session, the test whether it goes to a named gRPC collector.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { callerFile } = require('../dist/instrumentation/caller.js');
const { GrpcTelemetry } = require('../dist/instrumentation/net/grpc-telemetry.js');
const grpc = new GrpcTelemetry(['http://otel-collector:4317']);
const server = createServer(() => {});
const N = 1_000_000;

function nsPerOp(fn, n = N) {
  for (let i = 0; i < n / 10; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - start) / n;
}

for (let round = 1; round <= 3; round++) {
  const listener = nsPerOp(() => {
    const onEvent = () => {};
    server.prependOnceListener('request', onEvent);
    server.removeListener('request', onEvent);
  });
  const stack = nsPerOp(() => callerFile(), N / 10);
  // Another destination: what every connection the app opens pays (no stack capture).
  const connect = nsPerOp(() => grpc.isTransport('10.1.2.3', 5432));
  console.log(
    `round ${round}: request listener ${listener.toFixed(0)} ns/request; caller check ${(stack / 1000).toFixed(1)} µs/check; ` +
      `gRPC collector test ${connect.toFixed(0)} ns/connect`,
  );
}
