// A small Dockerfile reader for the deployment tests: the instructions (line continuations and comment lines
// handled), the build stages, and the pieces of arguments the tests look at (exec/shell form, key=value lists,
// HEALTHCHECK, base images with the global ARGs' defaults substituted). Heredocs and the `escape` directive are
// not supported; the reader refuses them rather than misreading them.

export interface Instruction {
  /** Upper case, e.g. FROM, RUN, HEALTHCHECK. */
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line number of the keyword. */
  line: number;
}

export interface Stage {
  /** The base image as written after variable substitution, or an earlier stage's name. */
  base: string;
  /** `AS name`, lower case; undefined for an unnamed stage. */
  name: string | undefined;
  from: Instruction;
  /** The instructions after FROM, up to the next FROM. */
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM with a default (a FROM using one without a default keeps `${NAME}`). */
  globalArgs: Map<string, string>;
  stages: Stage[];
}

export class DockerfileError extends Error {
  constructor(line: number, reason: string) {
    super(`line ${line}: ${reason}`);
    this.name = 'DockerfileError';
  }
}

/** Joins continuation lines and drops comments and blank lines. */
function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (/^#\s*escape\s*=/i.test(trimmed) && result.length === 0 && pending === undefined) {
      throw new DockerfileError(line, 'the escape directive is not supported');
    }
    // Comment lines are ignored, also between continuation lines (Docker does the same).
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const continues = trimmed.endsWith('\\');
    const part = continues ? trimmed.slice(0, -1).trim() : trimmed;
    if (pending === undefined) pending = { parts: [], line };
    pending.parts.push(part);
    if (continues) return;
    const joined = pending.parts.filter((p) => p !== '').join(' ');
    const match = /^([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(joined);
    if (!match?.[1]) throw new DockerfileError(pending.line, `not an instruction: ${JSON.stringify(joined)}`);
    const args = match[2] ?? '';
    if (/<<-?["']?[A-Za-z_]/.test(args) && /^(RUN|COPY|ADD)$/i.test(match[1])) {
      throw new DockerfileError(pending.line, 'heredocs are not supported');
    }
    result.push({ keyword: match[1].toUpperCase(), args, line: pending.line });
    pending = undefined;
  });
  if (pending !== undefined) throw new DockerfileError(pending.line, 'the last instruction ends with "\\"');
  return result;
}

/** `${NAME}` and `$NAME` replaced from `vars`; names not in `vars` are left as written. */
export function substitute(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced, bare) => {
    const value = vars.get((braced ?? bare) as string);
    return value ?? whole;
  });
}

/** Splits on whitespace outside quotes; quotes are removed and `\x` stands for `x`. */
export function words(text: string): string[] {
  const result: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quote === undefined && /\s/.test(char)) {
      if (inWord) result.push(current);
      current = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (char === '\\' && quote !== "'" && i + 1 < text.length) {
      current += text[++i];
    } else if (quote === undefined && (char === '"' || char === "'")) {
      quote = char;
    } else if (char === quote) {
      quote = undefined;
    } else {
      current += char;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated ${quote} in ${JSON.stringify(text)}`);
  if (inWord) result.push(current);
  return result;
}

/** LABEL and ENV arguments: `k=v k2="v 2"`, or the legacy `ENV key value` form. */
export function keyValues(args: string): Map<string, string> {
  const tokens = words(args);
  const first = tokens[0];
  if (first !== undefined && !first.includes('=')) {
    return new Map([[first, tokens.slice(1).join(' ')]]);
  }
  return new Map(
    tokens.map((token) => {
      const eq = token.indexOf('=');
      if (eq <= 0) throw new Error(`expected key=value, got ${JSON.stringify(token)}`);
      return [token.slice(0, eq), token.slice(eq + 1)];
    }),
  );
}

/** The exec form's argv (`["a", "b"]`), or `/bin/sh -c ARGS` for the shell form, as Docker runs them. */
export function commandOf(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return parsed;
  }
  return ['/bin/sh', '-c', trimmed];
}

export interface Healthcheck {
  /** `--interval=15s` etc., without the dashes. */
  options: Map<string, string>;
  /** The command; undefined for HEALTHCHECK NONE. */
  command: string[] | undefined;
}

export function parseHealthcheck(args: string): Healthcheck {
  const options = new Map<string, string>();
  let rest = args.trim();
  for (let match = /^--([a-z-]+)=(\S+)\s+/.exec(rest); match; match = /^--([a-z-]+)=(\S+)\s+/.exec(rest)) {
    options.set(match[1] as string, match[2] as string);
    rest = rest.slice(match[0].length);
  }
  if (/^NONE$/i.test(rest)) return { options, command: undefined };
  const cmd = /^CMD\s+([\s\S]+)$/i.exec(rest);
  if (!cmd?.[1])
    throw new Error(`HEALTHCHECK: expected CMD or NONE after the options, got ${JSON.stringify(rest)}`);
  return { options, command: commandOf(cmd[1]) };
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions(text)) {
    const current = stages.at(-1);
    if (instruction.keyword === 'FROM') {
      const tokens = words(instruction.args).filter((token) => !token.startsWith('--'));
      const [image, as, name] = tokens;
      const named = tokens.length === 3 && as?.toUpperCase() === 'AS';
      if (image === undefined || !(tokens.length === 1 || named)) {
        throw new DockerfileError(
          instruction.line,
          `FROM: expected IMAGE [AS NAME], got ${instruction.args}`,
        );
      }
      stages.push({
        base: substitute(image, globalArgs),
        name: named ? name?.toLowerCase() : undefined,
        from: instruction,
        instructions: [],
      });
    } else if (current === undefined) {
      if (instruction.keyword !== 'ARG') {
        throw new DockerfileError(instruction.line, `${instruction.keyword} before the first FROM`);
      }
      const [declaration = ''] = words(instruction.args);
      const eq = declaration.indexOf('=');
      if (eq > 0) globalArgs.set(declaration.slice(0, eq), declaration.slice(eq + 1));
    } else {
      current.instructions.push(instruction);
    }
  }
  if (stages.length === 0) throw new DockerfileError(1, 'no FROM instruction');
  return { globalArgs, stages };
}

/** The stage the image is made of: the last one. */
export function finalStage(dockerfile: Dockerfile): Stage {
  return dockerfile.stages.at(-1) as Stage;
}

/** The last instruction `keyword` of a stage (later ones override earlier ones, as for CMD, USER, HEALTHCHECK). */
export function lastOf(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
}

/** Every ENV, or every LABEL, of a stage merged in order. */
export function mergedKeyValues(stage: Stage, keyword: 'ENV' | 'LABEL'): Map<string, string> {
  const merged = new Map<string, string>();
  for (const instruction of stage.instructions) {
    if (instruction.keyword === keyword) {
      for (const [key, value] of keyValues(instruction.args)) merged.set(key, value);
    }
  }
  return merged;
}
