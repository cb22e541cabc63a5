// Tokenizer of run search expressions (`metrics.knn_top1@20 > 0.5 and swav.prototypes = 3000`).
import { SearchSyntaxError } from './errors.js';

export type TokenKind =
  | 'ident'
  | 'number'
  | 'string'
  | 'op'
  | 'dot'
  | 'comma'
  | 'lparen'
  | 'rparen'
  | 'keyword'
  | 'end';

export const KEYWORDS = ['and', 'or', 'not', 'in', 'like', 'true', 'false', 'null'] as const;
export type Keyword = (typeof KEYWORDS)[number];

export interface Token {
  kind: TokenKind;
  /** Identifiers as written; keywords lower-cased; strings unquoted; operators normalised (`<>` → `!=`). */
  text: string;
  /** 0-based offset of the token's first character. */
  offset: number;
}

/** Longest expression accepted; bounds the work a single request can ask for. */
export const MAX_EXPRESSION_LENGTH = 2000;

const IDENT_START = /[A-Za-z_]/;
// `@` belongs to identifiers so that metric names such as knn_top1@20 are one segment.
const IDENT_PART = /[A-Za-z0-9_@]/;
const DIGIT = /[0-9]/;
const NUMBER = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/;

export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the expression';
    case 'string':
      return `the string '${token.text.length > 30 ? `${token.text.slice(0, 27)}...` : token.text}'`;
    case 'keyword':
      return token.text.toUpperCase();
    default:
      return `"${token.text}"`;
  }
}

function isKeyword(word: string): word is Keyword {
  return (KEYWORDS as readonly string[]).includes(word);
}

function readString(source: string, start: number): { text: string; end: number } {
  const quote = source[start];
  let text = '';
  let i = start + 1;
  while (i < source.length) {
    const ch = source[i];
    if (ch === quote) {
      // A doubled quote stands for one quote character, as in SQL.
      if (source[i + 1] === quote) {
        text += quote;
        i += 2;
        continue;
      }
      return { text, end: i + 1 };
    }
    text += ch;
    i++;
  }
  throw new SearchSyntaxError(
    start,
    `a closing ${quote} for the string started here`,
    'the end of the expression',
  );
}

/** Splits an expression into tokens, ending with one `end` token. */
export function tokenize(source: string): Token[] {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new SearchSyntaxError(
      MAX_EXPRESSION_LENGTH,
      `an expression of at most ${MAX_EXPRESSION_LENGTH} characters`,
      `${source.length} characters`,
    );
  }
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const { text, end } = readString(source, i);
      tokens.push({ kind: 'string', text, offset: i });
      i = end;
      continue;
    }
    const number =
      DIGIT.test(ch) || ((ch === '-' || ch === '.') && DIGIT.test(source[i + 1] ?? ''))
        ? NUMBER.exec(source.slice(i))
        : null;
    if (number) {
      tokens.push({ kind: 'number', text: number[0], offset: i });
      i += number[0].length;
      if (IDENT_PART.test(source[i] ?? '')) {
        throw new SearchSyntaxError(i, 'an operator, AND, OR or ")" after a number', `"${source[i]}"`);
      }
      continue;
    }
    if (IDENT_START.test(ch)) {
      let end = i + 1;
      while (end < source.length && IDENT_PART.test(source[end] as string)) end++;
      const word = source.slice(i, end);
      const lower = word.toLowerCase();
      tokens.push(
        isKeyword(lower)
          ? { kind: 'keyword', text: lower, offset: i }
          : { kind: 'ident', text: word, offset: i },
      );
      i = end;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'op', text: two === '<>' ? '!=' : two, offset: i });
      i += 2;
      continue;
    }
    if (ch === '=' || ch === '<' || ch === '>') {
      tokens.push({ kind: 'op', text: ch, offset: i });
      i++;
      continue;
    }
    const single: Partial<Record<string, TokenKind>> = {
      '.': 'dot',
      ',': 'comma',
      '(': 'lparen',
      ')': 'rparen',
    };
    const kind = single[ch];
    if (kind === undefined) {
      throw new SearchSyntaxError(
        i,
        'a field, a value, an operator or a parenthesis',
        `the character "${ch}"`,
      );
    }
    tokens.push({ kind, text: ch, offset: i });
    i++;
  }
  tokens.push({ kind: 'end', text: '', offset: source.length });
  return tokens;
}
