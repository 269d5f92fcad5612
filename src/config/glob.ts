/**
 * Glob checks shared by the loader (to reject a bad glob with its line) and the policy compiler
 * (to build the matcher). picomatch silently treats an unbalanced `[` as a literal and turns an
 * unbalanced `{` into a pattern that matches nothing, so balance is checked here first.
 */
import picomatch from 'picomatch';

/**
 * picomatch compiles a glob to a backtracking RegExp: each `*` becomes a lazy loop, and a path
 * that almost matches makes the engine try every way of splitting it between the loops. Measured
 * on a 4096-character path of 255-character names (README: Performance): three loops
 * (`**` + `/*a*b`) 0.3 ms, four 110–210 ms, five 0.8–6.7 s per match. So a glob may hold at most
 * three.
 */
export const MAX_GLOB_WILDCARDS = 3;

/** `dot: true`: a rule on `data/**` must also cover `data/.hidden`. */
export const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true };

/** The problem with `glob`, or undefined when it is usable. */
export function globProblem(glob: string): string | undefined {
  if (glob.length === 0) return 'is an empty glob';
  const open: string[] = [];
  const closers: Record<string, string> = { ']': '[', '}': '{', ')': '(' };
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    // Inside a bracket class every character but `]` is literal.
    if (open[open.length - 1] === '[' && ch !== ']') continue;
    if (ch === '[' || ch === '{' || ch === '(') open.push(ch);
    else if (ch in closers) {
      if (open[open.length - 1] !== closers[ch]) return `has an unbalanced "${ch}"`;
      open.pop();
    }
  }
  if (open.length > 0) return `has an unclosed "${open[open.length - 1]}"`;
  const complexity = complexityProblem(glob);
  if (complexity) return complexity;
  try {
    const re = picomatch.makeRe(glob, GLOB_OPTIONS);
    if (re.source === '$^') return 'is not a valid glob';
  } catch (error) {
    return `is not a valid glob (${error instanceof Error ? error.message : String(error)})`;
  }
  return undefined;
}

/**
 * Counts the loops a glob compiles to: every run of `*` (so `**` is one), and `!(…)`. The
 * repeating extglobs `+(…)` and `*(…)` compile to nested loops, exponential on a near miss, and
 * are refused outright.
 */
function complexityProblem(glob: string): string | undefined {
  let loops = 0;
  let inClass = false;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') inClass = true;
    else if ((ch === '+' || ch === '*') && glob[i + 1] === '(') {
      return `uses the repeating extglob "${ch}(…)", which can take exponential time to match; list the alternatives with {a,b} instead`;
    } else if (ch === '!' && glob[i + 1] === '(') loops++;
    else if (ch === '*') {
      loops++;
      while (glob[i + 1] === '*') i++;
    }
  }
  if (loops <= MAX_GLOB_WILDCARDS) return undefined;
  return (
    `has ${loops} "*" wildcards; at most ${MAX_GLOB_WILDCARDS} are allowed because each one multiplies the time to match a long ` +
    `name that almost matches (a write to a new file name could block the process for seconds); use "?" for single characters ` +
    `or split it into several entries`
  );
}

/** A plain RegExp test: several times faster per call than picomatch's matcher wrapper. */
export function compileGlob(glob: string): (value: string) => boolean {
  const re = picomatch.makeRe(glob, GLOB_OPTIONS);
  return (value) => re.test(value);
}

/** A glob that matches exactly `path` (used for run-time labels of a single file). */
export function literalGlob(path: string): string {
  return path.replace(/[*?[\]{}()!+@\\]/g, '\\$&');
}

/** The folder a glob cannot match outside of (its part before the first wildcard); the glob itself when it has none. */
export function globBase(glob: string): string {
  const scan = picomatch.scan(glob, GLOB_OPTIONS);
  return scan.isGlob ? scan.base || '/' : glob;
}
