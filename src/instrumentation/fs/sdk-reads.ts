/**
 * The app's OpenTelemetry SDK reads a few fixed host files for its Resource: the host detector's
 * machine id, the container detector's cgroup and mount tables, the AWS ECS detector's cgroup table,
 * the AWS EKS detector's service-account token and cluster CA and cgroup table. Those reads are the SDK's, not
 * the app's data: not flows, not journaled. Both must hold: the path is one of these fixed files,
 * and the caller is the detector module that reads it; the app reading the same file is a flow
 * as always. Labelling these files therefore does not cover the detector's read (README, limits).
 */
import { calledFromAny } from '../caller.js';

const MACHINE_ID_DETECTOR =
  /[\\/]node_modules[\\/]@opentelemetry[\\/]resources[\\/]dist[\\/]detectors[\\/]platform[\\/]node[\\/]machine-id[\\/]getMachineId-linux\.(c|m)?js$/;
const CONTAINER_DETECTOR =
  /[\\/]node_modules[\\/]@opentelemetry[\\/]resource-detector-container[\\/]dist[\\/]detectors[\\/]ContainerDetector\.(c|m)?js$/;
const ECS_DETECTOR = /[\\/]node_modules[\\/]@opentelemetry[\\/]resource-detector-aws[\\/]dist[\\/]detectors[\\/]AwsEcsDetector\.(c|m)?js$/;
const EKS_DETECTOR = /[\\/]node_modules[\\/]@opentelemetry[\\/]resource-detector-aws[\\/]dist[\\/]detectors[\\/]AwsEksDetector\.(c|m)?js$/;
const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Each fixed path and the only modules whose read of it is the SDK's. */
const DETECTOR_READS: ReadonlyMap<string, readonly RegExp[]> = new Map([
  ['/etc/machine-id', [MACHINE_ID_DETECTOR]],
  ['/var/lib/dbus/machine-id', [MACHINE_ID_DETECTOR]],
  ['/proc/self/cgroup', [CONTAINER_DETECTOR, ECS_DETECTOR, EKS_DETECTOR]],
  [`${SERVICE_ACCOUNT}/token`, [EKS_DETECTOR]],
  [`${SERVICE_ACCOUNT}/ca.crt`, [EKS_DETECTOR]],
  ['/proc/self/mountinfo', [CONTAINER_DETECTOR]],
]);

export function isSdkIdentityRead(path: unknown): boolean {
  if (typeof path !== 'string') return false;
  const detectors = DETECTOR_READS.get(path);
  return detectors !== undefined && calledFromAny(detectors);
}
