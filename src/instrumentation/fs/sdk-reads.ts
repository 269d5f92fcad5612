/**
 * The app's OpenTelemetry SDK reads a few host identity files for its Resource (the host
 * detector's machine id). Those reads are the SDK's, not the app's data: not flows, not journaled.
 * Both must hold: the path is one of these fixed files, and the caller is the detector's own
 * module in @opentelemetry/resources; the app reading the same file is a flow as always.
 * Labelling these files therefore does not cover the detector's read (README, limits).
 */
import { callerFile } from '../caller.js';

const IDENTITY_FILES: ReadonlySet<string> = new Set(['/etc/machine-id', '/var/lib/dbus/machine-id']);
const DETECTOR_MODULE =
  /[\\/]node_modules[\\/]@opentelemetry[\\/]resources[\\/]dist[\\/]detectors[\\/]platform[\\/]node[\\/]machine-id[\\/]getMachineId-linux\.(c|m)?js$/;

export function isSdkIdentityRead(path: unknown): boolean {
  if (typeof path !== 'string' || !IDENTITY_FILES.has(path)) return false;
  const file = callerFile();
  return file !== undefined && DETECTOR_MODULE.test(file);
}
