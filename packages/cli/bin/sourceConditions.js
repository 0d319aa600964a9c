// Module resolution hook of the `livescope` launcher: resolve with the `livescope-source` condition,
// under which every workspace package exports its TypeScript sources.
export async function resolve(specifier, context, next) {
  return next(specifier, context.conditions.includes('livescope-source') ? context : { ...context, conditions: [...context.conditions, 'livescope-source'] });
}
