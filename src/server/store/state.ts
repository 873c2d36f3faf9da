/** An empty entity state. It has no prototype, so a payload key like "__proto__" stays plain data. */
export function newEntityState(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

/**
 * Folds one event payload into an entity's state the way allsource-core does: the keys of
 * an object payload are shallow-merged over the state; payloads that are not objects leave
 * the state as it was.
 */
export function foldPayload(state: Record<string, unknown>, payload: unknown): Record<string, unknown> {
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
    for (const key of Object.keys(payload)) state[key] = (payload as Record<string, unknown>)[key];
  }
  return state;
}
