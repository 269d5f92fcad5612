// How OpenTelemetry's ESM instrumentation starts: import-in-the-middle's loader as an
// asynchronous module.register() hook, registered before the app with --import.
import { register } from 'node:module';

register('import-in-the-middle/hook.mjs', import.meta.url);
