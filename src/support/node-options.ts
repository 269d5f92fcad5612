/** Node's own command-line options of this thread, as given on the command line or in NODE_OPTIONS. */

/**
 * The value of option `--<name>` (`--name=value`, or `--name value`; '' for a bare flag), or
 * undefined when it is not given.
 */
export function nodeOption(name: string): string | undefined {
  const options = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
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
