// Locates the first syntax error of a JSON text with its line and column. V8's JSON.parse messages give a
// character offset for some errors and none for others ("Unexpected token 'x', ... is not valid JSON"); a spec
// file's author needs `file:line:column` every time, so the text is scanned by this small recogniser instead.

export interface JsonSyntaxError {
  /** 1-based line and column (UTF-16 code units) of the offending character. */
  line: number;
  column: number;
  reason: string;
}

class Failure {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ['true', 'false', 'null'];

class Scanner {
  private pos = 0;

  constructor(private readonly text: string) {}

  scanDocument(): void {
    this.skipSpace();
    this.value();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('unexpected text after the JSON value');
  }

  private found(): string {
    const char = this.text[this.pos];
    return char === undefined ? 'the end of the file' : JSON.stringify(char);
  }

  private fail(reason: string): never {
    throw new Failure(this.pos, reason);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos] as string)) this.pos++;
  }

  private value(): void {
    const char = this.text[this.pos];
    if (char === '{') this.object();
    else if (char === '[') this.array();
    else if (char === '"') this.string();
    else if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) this.number();
    else this.literal(char);
  }

  private literal(char: string | undefined): void {
    for (const literal of LITERALS) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        return;
      }
    }
    if (char === "'") this.fail('strings must use double quotes');
    this.fail(`expected a value (object, array, string, number, true, false or null), found ${this.found()}`);
  }

  private object(): void {
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') this.fail("trailing comma before '}'");
      if (this.text[this.pos] !== '"')
        this.fail(`expected a double-quoted property name, found ${this.found()}`);
      this.string();
      this.skipSpace();
      if (this.text[this.pos] !== ':')
        this.fail(`expected ':' after the property name, found ${this.found()}`);
      this.pos++;
      this.skipSpace();
      this.value();
      this.skipSpace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === '}') return;
      if (next !== ',') {
        this.pos--;
        this.fail(`expected ',' or '}' after a property value, found ${this.found()}`);
      }
    }
  }

  private array(): void {
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ']') this.fail("trailing comma before ']'");
      this.value();
      this.skipSpace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ']') return;
      if (next !== ',') {
        this.pos--;
        this.fail(`expected ',' or ']' after an array element, found ${this.found()}`);
      }
    }
  }

  private string(): void {
    const start = this.pos;
    this.pos++;
    for (;;) {
      const char = this.text[this.pos];
      if (char === undefined) throw new Failure(start, 'unterminated string');
      if (char === '"') {
        this.pos++;
        return;
      }
      if (char < ' ') this.fail('control character in a string (write line breaks and tabs as \\n and \\t)');
      if (char === '\\') {
        const escaped = this.text[this.pos + 1];
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
            this.fail('invalid \\u escape: expected 4 hexadecimal digits');
          }
          this.pos += 6;
          continue;
        }
        if (escaped === undefined || !'"\\/bfnrt'.includes(escaped)) this.fail('invalid escape sequence');
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
  }

  private number(): void {
    const start = this.pos;
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.text);
    const next = match === null ? undefined : this.text[start + match[0].length];
    // Reported at the number's first character: `01`, `1.`, `-` and `.5` are wrong as a whole.
    if (match === null || (next !== undefined && /[0-9.eE+-]/.test(next)))
      throw new Failure(start, 'invalid number');
    this.pos += match[0].length;
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** The first syntax error of `text`, or null when it is valid JSON (or nested too deeply to scan here). */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  try {
    new Scanner(text).scanDocument();
    return null;
  } catch (error) {
    if (error instanceof Failure) return { ...lineAndColumn(text, error.offset), reason: error.reason };
    if (error instanceof RangeError) return null;
    throw error;
  }
}
