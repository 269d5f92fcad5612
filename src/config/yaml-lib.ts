/**
 * The `yaml` package, required on first use: a worker thread handed its creator's config
 * (instrumentation/worker/creator.ts) parses none, and the parser is the largest single package
 * its start would otherwise load.
 */
import type * as Yaml from 'yaml';

let lib: typeof Yaml | undefined;

export function yamlLib(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  lib ??= require('yaml') as typeof Yaml;
  return lib;
}
