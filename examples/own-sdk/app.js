// An app that runs its own OpenTelemetry SDK and adds provenant to it as one more
// instrumentation. Run it with the preload, which mediates from the first line:
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 node -r provenant/register app.js
// provenant's lineage spans then go through this app's TracerProvider: its Resource, its
// sampler, its exporter (one export, one pipeline). With NodeSDK the same is
//   new NodeSDK({ resource, instrumentations: [getNodeAutoInstrumentations(), new ProvenantInstrumentation()] })
const { context, propagation, trace } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { defaultResource, resourceFromAttributes } = require('@opentelemetry/resources');
const { BatchSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace');
const { ProvenantInstrumentation } = require('provenant');

const resource = defaultResource().merge(resourceFromAttributes({ 'service.name': 'shop', 'deployment.environment.name': 'staging' }));
const provider = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(provider);
registerInstrumentations({ tracerProvider: provider, instrumentations: [new HttpInstrumentation(), new ProvenantInstrumentation()] });

const { readFile } = require('node:fs/promises');
const http = require('node:http');
const path = require('node:path');

const server = http.createServer(async (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(await readFile(path.join(__dirname, 'data', 'items.json')));
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));

// The app's own shutdown flushes its pipeline, provenant's spans included.
process.on('SIGTERM', () => server.close(() => provider.shutdown().then(() => process.exit(0))));
