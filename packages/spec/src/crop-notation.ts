// Writing structured crop groups back as the notation (`2x32(0.3-1)+4x16(0.15-0.4)`), without zod, so that the
// dashboard can import it (`@swavlab/spec/crop-notation`) without bundling the schema library.

/** One group of crops of one size, as a validated spec holds it. */
export interface CropGroupShape {
  count: number;
  size: number;
  min_scale: number;
  max_scale: number;
}

const FIRST_GROUP_SCALES = [0.14, 1] as const;
const LATER_GROUP_SCALES = [0.05, 0.14] as const;

/** The scales a group gets when the notation does not spell them out (the paper's global, then local crops). */
export function defaultScales(position: number): readonly [number, number] {
  return position === 0 ? FIRST_GROUP_SCALES : LATER_GROUP_SCALES;
}

/**
 * The notation for structured crop groups, omitting scales equal to the positional defaults; the inverse of
 * `parseCrops` for valid groups.
 */
export function formatCrops(groups: readonly CropGroupShape[]): string {
  return groups
    .map((g, i) => {
      const [min, max] = defaultScales(i);
      const scales = g.min_scale === min && g.max_scale === max ? '' : `(${g.min_scale}-${g.max_scale})`;
      return `${g.count}x${g.size}${scales}`;
    })
    .join('+');
}

const GROUP_KEYS = ['count', 'max_scale', 'min_scale', 'size'];

/** Whether a value (a grid's group key, say) has the shape of structured crop groups. */
export function isCropGroups(value: unknown): value is CropGroupShape[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (group) =>
        typeof group === 'object' &&
        group !== null &&
        Object.keys(group).sort().join() === GROUP_KEYS.join() &&
        Object.values(group).every((field) => typeof field === 'number'),
    )
  );
}
