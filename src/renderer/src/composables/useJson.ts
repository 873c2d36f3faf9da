import { onBeforeUnmount, onMounted, ref, shallowRef, type Ref, type ShallowRef } from 'vue';
import { fetchJson } from '../api';

export interface JsonQuery<T> {
  data: ShallowRef<T | undefined>;
  error: ShallowRef<unknown>;
  loading: Ref<boolean>;
  refetch: () => Promise<void>;
}

/**
 * Loads `path` when the component mounts and on `refetch()`. A newer request supersedes an
 * older one, and unmounting cancels whatever is in flight.
 */
export function useJson<T>(path: string): JsonQuery<T> {
  const data = shallowRef<T>();
  const error = shallowRef<unknown>();
  const loading = ref(false);
  let controller: AbortController | undefined;

  async function refetch(): Promise<void> {
    controller?.abort();
    const current = new AbortController();
    controller = current;
    loading.value = true;
    try {
      data.value = await fetchJson<T>(path, current.signal);
      error.value = undefined;
    } catch (caught) {
      if (current.signal.aborted) return;
      error.value = caught;
    } finally {
      if (controller === current) loading.value = false;
    }
  }

  onMounted(refetch);
  onBeforeUnmount(() => controller?.abort());
  return { data, error, loading, refetch };
}
