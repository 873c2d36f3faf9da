import type { Health, Stats } from '../api';
import { useJson } from './useJson';

/** The server's public health: product, version, storage. */
export const useHealth = () => useJson<Health>('/health');

/** Event, entity and type totals for the caller's tenant. */
export const useStats = () => useJson<Stats>('/api/v1/stats');
