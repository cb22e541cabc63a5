// /v1/recipes: the named presets a spec can start from (`"recipe": name`), with where their settings come from.
import { RECIPE_NAMES, RECIPES, type RecipeName } from '@swavlab/spec';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';
import { problemResponses } from '../openapi.js';
import { notFound } from '../problem.js';
import type { ZodTypeProvider } from '../validation.js';

const RecipeView = z
  .object({
    name: z.enum(RECIPE_NAMES),
    description: z.string(),
    source: z.string().meta({ description: 'the published settings the recipe reproduces' }),
    spec: z
      .record(z.string(), z.unknown())
      .meta({ description: 'the fields it sets; a spec naming it overrides any' }),
  })
  .meta({ id: 'Recipe' });

function recipeView(name: RecipeName): z.input<typeof RecipeView> {
  const { description, source, spec } = RECIPES[name];
  return { name, description, source, spec };
}

export const recipeRoutes: FastifyPluginAsync<RouteOptions> = async (instance) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/recipes',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List the recipes',
        description:
          'Presets a spec names with `"recipe": "<name>"`: the recipe fields are laid under the spec, which may ' +
          'override any of them. The stored spec is the expanded one.',
        tags: ['recipes'],
        response: { 200: z.object({ recipes: z.array(RecipeView) }), ...problemResponses(401, 403, 429) },
      },
    },
    async () => ({ recipes: RECIPE_NAMES.map(recipeView) }),
  );

  app.get(
    '/recipes/:name',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Show a recipe',
        tags: ['recipes'],
        params: z.strictObject({ name: z.string().min(1).max(100) }),
        response: { 200: RecipeView, ...problemResponses(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const { name } = request.params;
      if (!(RECIPE_NAMES as readonly string[]).includes(name)) throw notFound('recipe', name);
      return recipeView(name as RecipeName);
    },
  );
};
