/**
 * Whether this process can reach beneath the JS API provenant patches. Natives syntax and the
 * inspector are asked of V8 and Node themselves (V8 flags can imply one another); asking Node
 * whether internals are exposed (`module.isBuiltin('internal/test/binding')`) would load
 * `node:module` at every start (~0.3 ms), so that option is read from the command line, the only
 * place Node takes it (NODE_OPTIONS may not hold it), in both of Node's spellings.
 */

const EXPOSE_INTERNALS = /^--expose[-_]internals$/;

/** `--expose-internals`: Node's internal modules (and through them every binding) can be required. */
export function internalsExposed(): boolean {
  return process.execArgv.some((option) => EXPOSE_INTERNALS.test(option));
}

/** V8's natives syntax (`%DebugPrint(x)`) compiles: `--allow-natives-syntax` or a flag implying it. */
export function nativesSyntaxOn(): boolean {
  const source = '%IsBeingInterpreted()';
  try {
    // Compiled, never run: the question is only whether V8 parses it.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    new Function(source);
    return true;
  } catch (error) {
    if (error instanceof SyntaxError) return false;
  }
  // Code generation from strings is disallowed (an EvalError): a script compiles regardless.
  try {
    new (process.getBuiltinModule('node:vm').Script)(source);
    return true;
  } catch {
    return false;
  }
}

/** The inspector's server is listening (`--inspect`, `--inspect-brk`, `--inspect-wait`, any spelling). */
export function inspectorOpen(binding: (name: string) => { url?: () => unknown } | undefined): boolean {
  return binding('inspector')?.url?.() !== undefined;
}
