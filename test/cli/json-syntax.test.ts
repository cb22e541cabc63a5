// The JSON error locator that gives spec-file errors their line and column: it must agree with JSON.parse on
// what is valid, and point at the offending character.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError } from '../../apps/cli/src/json-syntax.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('findJsonSyntaxError', () => {
  it.each([
    ['{"a": 1,}', 1, 9, "trailing comma before '}'"],
    ['[1, 2,]', 1, 7, "trailing comma before ']'"],
    ['{\n  "a": tru\n}', 2, 8, 'expected a value'],
    ["{'a': 1}", 1, 2, 'expected a double-quoted property name'],
    ['{"a" 1}', 1, 6, "expected ':' after the property name"],
    ['{"a": 1 "b": 2}', 1, 9, "expected ',' or '}' after a property value"],
    ['{"a": 01}', 1, 7, 'invalid number'],
    ['{"a": "x\ny"}', 1, 9, 'control character in a string'],
    ['{"a": "\\q"}', 1, 8, 'invalid escape sequence'],
    ['{"a": "open', 1, 7, 'unterminated string'],
    ['{"a": 1', 1, 8, "expected ',' or '}' after a property value, found the end of the file"],
    ['{} {}', 1, 4, 'unexpected text after the JSON value'],
    ['{"a": \'x\'}', 1, 7, 'strings must use double quotes'],
  ])('%j → line %i, column %i: %s', (text, line, column, reason) => {
    const error = findJsonSyntaxError(text);
    expect(error).toMatchObject({ line, column });
    expect(error?.reason).toContain(reason);
  });

  it('accepts every JSON text JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        expect(findJsonSyntaxError(JSON.stringify(value, null, pretty ? 2 : undefined))).toBeNull();
      }),
    );
  });

  it('agrees with JSON.parse on arbitrary edits of valid JSON', () => {
    const fragment = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\',
      '0',
      '-',
      '.',
      'e',
      'true',
      'nul',
      ' ',
      '\n',
      'x',
      "'",
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fragment, fc.boolean(), (value, at, insert, remove) => {
        const text = JSON.stringify(value);
        const position = at % (text.length + 1);
        const edited = text.slice(0, position) + insert + text.slice(remove ? position + 1 : position);
        expect(findJsonSyntaxError(edited) === null).toBe(parses(edited));
      }),
      { numRuns: 2000 },
    );
  });
});
