// `swavlab recipes [NAME]`: the presets a spec can start from, read from @swavlab/spec (the same the server uses),
// so that they can be browsed without a server.
import { RECIPE_NAMES, RECIPES, type RecipeName } from '@swavlab/spec';
import { type Command, parseCommand, printJson, printLine } from '../command.js';
import { CliError, EXIT } from '../errors.js';

function isRecipeName(name: string): name is RecipeName {
  return (RECIPE_NAMES as readonly string[]).includes(name);
}

/** The first sentence of a description, for the one-line listing. */
function firstSentence(text: string): string {
  const end = text.indexOf('. ');
  return end < 0 ? text : text.slice(0, end + 1);
}

export const recipesCommand: Command = {
  name: 'recipes',
  summary: 'list the recipes a spec can start from',
  usage: `Usage: swavlab recipes [NAME] [--json]

Without NAME, lists the recipes with a line each. With NAME, shows what the recipe reproduces, where its
settings come from and the spec fields it sets. Start a run from one with
\`swavlab submit --recipe NAME --set data.path=...\`; the spec may override any field.

Options:
  --json           print the recipe(s) as JSON

Exit codes: 0 ok, 2 unknown recipe.`,

  async run(args) {
    const parsed = parseCommand(this, args, { json: { type: 'boolean' } }, { min: 0, max: 1, names: 'NAME' });
    if (!parsed) return EXIT.ok;
    const { values, positionals } = parsed;
    const name = positionals[0];
    if (name === undefined) {
      if (values.json) {
        printJson(RECIPE_NAMES.map((recipe) => ({ name: recipe, ...RECIPES[recipe] })));
        return EXIT.ok;
      }
      const width = Math.max(...RECIPE_NAMES.map((recipe) => recipe.length)) + 2;
      for (const recipe of RECIPE_NAMES) {
        printLine(`${recipe.padEnd(width)}${firstSentence(RECIPES[recipe].description)}`);
      }
      return EXIT.ok;
    }
    if (!isRecipeName(name)) {
      throw new CliError(`unknown recipe ${JSON.stringify(name)}`, EXIT.usage, [
        `known recipes: ${RECIPE_NAMES.join(', ')}`,
      ]);
    }
    const recipe = RECIPES[name];
    if (values.json) {
      printJson({ name, ...recipe });
      return EXIT.ok;
    }
    printLine(name);
    printLine(recipe.description);
    printLine(`source: ${recipe.source}`);
    printLine('fields:');
    for (const line of JSON.stringify(recipe.spec, null, 2).split('\n')) printLine(`  ${line}`);
    return EXIT.ok;
  },
};
