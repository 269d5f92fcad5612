/**
 * Parser of the rule language (grammar in the README, "Rule language"):
 *
 *   clause  := [permit | deny] atom [":-" literal {"," literal}] "."
 *   literal := ["not"] fact ["within" DURATION] | term ("=" | "!=") term
 *   fact    := "attested" "(" term "," atom ")" | atom
 *   atom    := name "(" [term {"," term}] ")"
 *   term    := Variable | name | "string" | number
 *
 * Variables start with an upper-case letter or `_`; names with a lower-case letter.
 */
import {
  ANONYMOUS,
  attestedRelation,
  durationUnits,
  RuleError,
  type Atom,
  type Clause,
  type Effect,
  type Literal,
  type Program,
  type Term,
} from './syntax.js';

type TokenKind = 'name' | 'var' | 'string' | 'number' | 'duration' | 'punct' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly at: number;
}

const PUNCTUATION = [':-', '!=', '(', ')', ',', '.', '='] as const;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '%') {
      // A comment runs to the end of the line.
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    const at = i;
    if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length) throw new RuleError('unterminated string', at);
        const d = source[i];
        if (d === '"') break;
        if (d === '\\') {
          const next = source[i + 1];
          if (next !== '"' && next !== '\\') throw new RuleError('only \\" and \\\\ may be escaped in a string', i);
          value += next;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', text: value, at });
      continue;
    }
    const number = /^-?\d+(\.\d+)?([a-z]+)?/.exec(source.slice(i));
    if (number) {
      i += number[0].length;
      tokens.push({ kind: number[2] === undefined ? 'number' : 'duration', text: number[0], at });
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(i));
    if (word) {
      i += word[0].length;
      tokens.push({ kind: /^[A-Z_]/.test(word[0]) ? 'var' : 'name', text: word[0], at });
      continue;
    }
    const punct = PUNCTUATION.find((p) => source.startsWith(p, i));
    if (punct === undefined) throw new RuleError(`unexpected character "${c}"`, at);
    i += punct.length;
    tokens.push({ kind: 'punct', text: punct, at });
  }
  tokens.push({ kind: 'end', text: 'the end of the rule', at: source.length });
  return tokens;
}

class Parser {
  private i = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  program(): Program {
    const clauses: Clause[] = [];
    while (this.peek().kind !== 'end') clauses.push(this.clause());
    if (clauses.length === 0) throw new RuleError('the rule is empty', 0);
    return { clauses };
  }

  private clause(): Clause {
    const start = this.peek();
    let effect: Effect | undefined;
    if (start.kind === 'name' && (start.text === 'permit' || start.text === 'deny') && this.peek(1).kind === 'name') {
      effect = start.text;
      this.i++;
    }
    const head = this.atom();
    if (head.relation === 'attested' || head.relation === 'not') throw new RuleError(`"${head.relation}" cannot be a rule's head`, head.at);
    const body: Literal[] = [];
    if (this.accept(':-')) {
      do body.push(this.literal());
      while (this.accept(','));
    }
    this.expect('.', 'a "." to end the clause');
    return effect === undefined ? { head, body, at: start.at } : { head, body, effect, at: start.at };
  }

  private literal(): Literal {
    const token = this.peek();
    const next = this.peek(1);
    if (token.kind === 'name' && token.text === 'not' && next.kind === 'name') return this.fact(true);
    if (token.kind === 'name' && next.text === '(') return this.fact(false);
    const left = this.term();
    const op = this.peek();
    if (op.kind !== 'punct' || (op.text !== '=' && op.text !== '!=')) {
      throw new RuleError(`expected a fact or a comparison, got ${describe(token)}`, token.at);
    }
    this.i++;
    return { kind: 'compare', op: op.text, left, right: this.term(), at: token.at };
  }

  private fact(negated: boolean): Literal {
    if (negated) this.i++;
    const token = this.peek();
    let atom: Atom;
    if (token.kind === 'name' && token.text === 'attested') {
      this.i++;
      this.expect('(', '"(" after attested');
      const principal = this.term();
      this.expect(',', '"," after the principal');
      const inner = this.atom();
      this.expect(')', '")" to close attested(...)');
      atom = { relation: attestedRelation(inner.relation), args: [principal, ...inner.args], at: token.at };
    } else {
      atom = this.atom();
    }
    const within = this.peek();
    if (within.kind === 'name' && within.text === 'within') {
      this.i++;
      if (negated) throw new RuleError('"within" cannot bound a negated fact', within.at);
      return { kind: 'atom', atom, negated, withinMs: this.duration() };
    }
    return { kind: 'atom', atom, negated };
  }

  private duration(): number {
    const token = this.next();
    const match = token.kind === 'duration' ? /^(\d+)([a-z]+)$/.exec(token.text) : null;
    const size = match ? durationUnits().find(([unit]) => unit === match[2])?.[1] : undefined;
    if (match === null || size === undefined) {
      throw new RuleError(`expected a duration such as 10m, 30s, 2h or 1d after "within", got ${describe(token)}`, token.at);
    }
    const ms = Number(match[1]) * size;
    if (ms <= 0) throw new RuleError('a "within" duration must be positive', token.at);
    return ms;
  }

  private atom(): Atom {
    const name = this.next();
    if (name.kind !== 'name')
      throw new RuleError(`expected a fact name (starting with a lower-case letter), got ${describe(name)}`, name.at);
    this.expect('(', `"(" after ${name.text}`);
    const args: Term[] = [];
    if (!this.accept(')')) {
      do args.push(this.term());
      while (this.accept(','));
      this.expect(')', `")" to close ${name.text}(...)`);
    }
    return { relation: name.text, args, at: name.at };
  }

  private term(): Term {
    const token = this.next();
    if (token.kind === 'var') return { kind: 'var', name: token.text === ANONYMOUS ? ANONYMOUS : token.text };
    if (token.kind === 'name' || token.kind === 'string' || token.kind === 'number') return { kind: 'const', value: token.text };
    throw new RuleError(`expected a variable, a name, a string or a number, got ${describe(token)}`, token.at);
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)];
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.i++;
    return token;
  }

  private accept(punct: string): boolean {
    const token = this.peek();
    if (token.kind !== 'punct' || token.text !== punct) return false;
    this.i++;
    return true;
  }

  private expect(punct: string, what: string): void {
    const token = this.peek();
    if (!this.accept(punct)) throw new RuleError(`expected ${what}, got ${describe(token)}`, token.at);
  }
}

function describe(token: Token): string {
  if (token.kind === 'end') return token.text;
  if (token.kind === 'string') return `the string "${token.text}"`;
  return `"${token.text}"`;
}

/** Parse rule text into clauses; a syntax problem throws a RuleError at its offset. */
export function parseProgram(source: string): Program {
  return new Parser(tokenize(source)).program();
}
