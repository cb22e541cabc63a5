// Composable parameterised SQL for the read queries (src/reads: search, aggregates, series) that Prisma does not
// express. Values are only ever bind parameters: the text of a fragment comes from string literals in this package.
import type { Database } from './database.js';

export interface Sql {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
}

function isSql(value: unknown): value is Sql {
  return (
    typeof value === 'object' &&
    value !== null &&
    'strings' in value &&
    'values' in value &&
    !Array.isArray(value)
  );
}

/** Tagged template: interpolated Sql fragments are spliced in, every other value becomes a bind parameter. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  const outStrings: string[] = [strings[0] ?? ''];
  const outValues: unknown[] = [];
  values.forEach((value, i) => {
    const next = strings[i + 1] ?? '';
    if (isSql(value)) {
      outStrings[outStrings.length - 1] += value.strings[0] ?? '';
      for (let j = 0; j < value.values.length; j++) {
        outValues.push(value.values[j]);
        outStrings.push(value.strings[j + 1] ?? '');
      }
      outStrings[outStrings.length - 1] += next;
    } else {
      outValues.push(value);
      outStrings.push(next);
    }
  });
  return { strings: outStrings, values: outValues };
}

/** The fragments separated by `separator` (a constant such as ' AND '). */
export function joinSql(parts: readonly Sql[], separator: string): Sql {
  if (parts.length === 0) return { strings: [''], values: [] };
  return parts.slice(1).reduce((acc, part) => {
    const strings = [...acc.strings];
    strings[strings.length - 1] += separator + (part.strings[0] ?? '');
    return { strings: [...strings, ...part.strings.slice(1)], values: [...acc.values, ...part.values] };
  }, parts[0] as Sql);
}

/** Runs a composed query through the database's parameterised raw-query facility. */
export function runSql<Row>(db: Database, query: Sql): Promise<Row[]> {
  const strings = Object.assign([...query.strings], {
    raw: [...query.strings],
  }) as unknown as TemplateStringsArray;
  return db.query<Row>(strings, ...query.values);
}
