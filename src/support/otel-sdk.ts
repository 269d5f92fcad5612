/**
 * OpenTelemetry's SDK packages, required on first use. They are about a third of the modules a
 * process would otherwise load at preload (~80 files: sdk-trace, resources, core), and a process
 * with export off may make no lineage span at all; one with export on needs them at once.
 */
import type * as Resources from '@opentelemetry/resources';
import type * as SdkTrace from '@opentelemetry/sdk-trace';
import { internally } from './reentrancy.js';

let sdkTrace: typeof SdkTrace | undefined;
let resources: typeof Resources | undefined;

// The loader's own file reads are not the app's I/O, wherever the first use happens.
/* eslint-disable @typescript-eslint/no-require-imports */
export function otelSdkTrace(): typeof SdkTrace {
  sdkTrace ??= internally(() => require('@opentelemetry/sdk-trace') as typeof SdkTrace);
  return sdkTrace;
}

export function otelResources(): typeof Resources {
  resources ??= internally(() => require('@opentelemetry/resources') as typeof Resources);
  return resources;
}
/* eslint-enable @typescript-eslint/no-require-imports */
