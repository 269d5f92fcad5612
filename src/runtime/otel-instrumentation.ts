/**
 * provenant as an OpenTelemetry Instrumentation, for an app that runs its own NodeSDK:
 * `new NodeSDK({ instrumentations: [..., new ProvenantInstrumentation()] })` (or
 * registerInstrumentations). The SDK hands it its TracerProvider, and lineage spans then go
 * through the app's pipeline: its Resource, sampler, processors and exporters, one export.
 * Mediation itself still comes from the preload (`-r provenant/register`): enabling this late,
 * after the app's first line, could not see what happened before, so `enable()` only starts
 * provenant when the preload has not (with a warning).
 */
import { diag, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import { packageVersion } from '../support/package-version.js';
import { activeRuntime, start } from './runtime.js';

export interface ProvenantInstrumentationConfig {
  enabled?: boolean;
}

export class ProvenantInstrumentation {
  readonly instrumentationName = 'provenant';
  readonly instrumentationVersion: string;
  private config: ProvenantInstrumentationConfig;
  private provider: TracerProvider | undefined;

  constructor(config: ProvenantInstrumentationConfig = {}) {
    this.config = { enabled: true, ...config };
    this.instrumentationVersion = packageVersion();
  }

  enable(): void {
    if (this.config.enabled === false) return;
    if (activeRuntime() === undefined) {
      diag.warn('provenant: started by ProvenantInstrumentation, after the app began; use -r provenant/register for complete mediation');
      start();
    }
    if (this.provider) activeRuntime()?.useTracerProvider(this.provider);
  }

  /** Lineage spans go back to provenant's own provider (mediation goes on: only the preload starts and stops it). */
  disable(): void {
    activeRuntime()?.useTracerProvider(undefined);
  }

  setTracerProvider(provider: TracerProvider): void {
    this.provider = provider;
    if (this.config.enabled !== false) activeRuntime()?.useTracerProvider(provider);
  }

  setMeterProvider(_provider: MeterProvider): void {}

  setConfig(config: ProvenantInstrumentationConfig): void {
    this.config = { enabled: true, ...config };
  }

  getConfig(): ProvenantInstrumentationConfig {
    return this.config;
  }
}
