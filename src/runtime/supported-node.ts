/**
 * The oldest Node.js provenant runs on. OpenTelemetry SDK 3.x needs 22.15, and on older
 * runtimes undici's dispatcher interface differs: the fetch deny interceptor breaks allowed
 * fetches and leaves denied ones unsettled. Running there would look mediated without being so,
 * hence a clear refusal instead of a silent degradation.
 */
export const MINIMUM_NODE = '22.15.0';

function parse(version: string): [number, number, number] {
  const [major = 0, minor = 0, patch = 0] = version
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10) || 0);
  return [major, minor, patch];
}

/** One line saying why this runtime is refused, or undefined when it is supported. */
export function unsupportedNode(version: string = process.versions.node): string | undefined {
  const have = parse(version);
  const need = parse(MINIMUM_NODE);
  for (let i = 0; i < 3; i++) {
    if (have[i] > need[i]) return undefined;
    if (have[i] < need[i]) return `provenant needs Node.js >= ${MINIMUM_NODE}; this is Node.js v${version}`;
  }
  return undefined;
}
