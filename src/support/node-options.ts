/** Node's own command-line options: how Node reads them from argv and NODE_OPTIONS. */

/**
 * Node's options that take a value and accept it as the next argument (`--title x` as well as
 * `--title=x`), as `node --help` lists them on Node 22–24. An option missing here that takes a
 * separate value ends the scan of a child's options early, so that child is judged not to load
 * provenant: a refusal for labelled data, never a false allow. V8's options need `=`.
 */
const VALUE_OPTIONS = new Set([
  '-r',
  '--require',
  '--import',
  '-e',
  '--eval',
  '-p',
  '--print',
  '-C',
  '--conditions',
  '--loader',
  '--experimental-loader',
  '--allow-fs-read',
  '--allow-fs-write',
  '--build-snapshot-config',
  '--cpu-prof-dir',
  '--cpu-prof-interval',
  '--cpu-prof-name',
  '--debug-port',
  '--inspect-port',
  '--diagnostic-dir',
  '--disable-proto',
  '--disable-warning',
  '--dns-result-order',
  '--env-file',
  '--env-file-if-exists',
  '--experimental-config-file',
  '--experimental-sea-config',
  '--heap-prof-dir',
  '--heap-prof-interval',
  '--heap-prof-name',
  '--heapsnapshot-near-heap-limit',
  '--heapsnapshot-signal',
  '--icu-data-dir',
  '--input-type',
  '--inspect-publish-uid',
  '--localstorage-file',
  '--max-http-header-size',
  '--max-old-space-size-percentage',
  '--network-family-autoselection-attempt-timeout',
  '--openssl-config',
  '--redirect-warnings',
  '--report-dir',
  '--report-directory',
  '--report-filename',
  '--report-signal',
  '--run',
  '--secure-heap',
  '--secure-heap-min',
  '--snapshot-blob',
  '--test-concurrency',
  '--test-coverage-branches',
  '--test-coverage-exclude',
  '--test-coverage-functions',
  '--test-coverage-include',
  '--test-coverage-lines',
  '--test-global-setup',
  '--test-isolation',
  '--experimental-test-isolation',
  '--test-name-pattern',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-rerun-failures',
  '--test-shard',
  '--test-skip-pattern',
  '--test-timeout',
  '--title',
  '--tls-cipher-list',
  '--tls-keylog',
  '--trace-event-categories',
  '--trace-event-file-pattern',
  '--trace-require-module',
  '--unhandled-rejections',
  '--use-largepages',
  '--v8-pool-size',
  '--watch-kill-signal',
  '--watch-path',
]);

/** Option `option` (without `=value`) takes its value from the next argument. */
export function takesSeparateValue(option: string): boolean {
  return VALUE_OPTIONS.has(option);
}

/** NODE_OPTIONS split as Node splits it: on spaces, with double quotes grouping. */
export function splitNodeOptions(options: string | undefined): string[] {
  if (options === undefined) return [];
  return [...options.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]);
}

/**
 * The value of option `--<name>` of this thread (`--name=value`, or `--name value`; '' for a bare
 * flag), as given on the command line or in NODE_OPTIONS, or undefined when it is not given.
 */
export function nodeOption(name: string): string | undefined {
  const options = [...process.execArgv, ...splitNodeOptions(process.env['NODE_OPTIONS'])];
  const flag = `--${name}`;
  for (let i = 0; i < options.length; i++) {
    const option = options[i];
    if (option.startsWith(`${flag}=`)) return option.slice(flag.length + 1);
    if (option !== flag) continue;
    const next = options[i + 1];
    return next !== undefined && !next.startsWith('-') ? next : '';
  }
  return undefined;
}
