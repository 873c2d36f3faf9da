import type { Health, Stats } from '../api';
import { useJson } from './useJson';
import { useSession } from './useSession';

/** The server's public health: product, version, storage. */
export const useHealth = () => useJson<Health>('/health');

/** Event, entity and type totals for the signed-in user's tenant; loaded again at each sign-in. */
export function useStats() {
  const session = useSession();
  return useJson<Stats>('/api/v1/stats', { load: session.fetchWithSession, when: () => session.user.value });
}
