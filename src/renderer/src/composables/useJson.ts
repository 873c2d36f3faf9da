import {
  onBeforeUnmount,
  onMounted,
  ref,
  shallowRef,
  toValue,
  watch,
  type Ref,
  type ShallowRef,
  type WatchSource,
} from 'vue';
import { fetchJson } from '../api';

export interface JsonQuery<T> {
  data: ShallowRef<T | undefined>;
  error: ShallowRef<unknown>;
  loading: Ref<boolean>;
  refetch: () => Promise<void>;
}

export interface JsonQueryOptions {
  /** How to GET the path; the default sends no credentials. */
  load?: <T>(path: string, signal: AbortSignal) => Promise<T>;
  /** Load only while this is truthy: a new value reloads, a falsy one cancels and forgets. Default: always. */
  when?: WatchSource<unknown>;
}

const publicLoad = <T>(path: string, signal: AbortSignal) => fetchJson<T>(path, { signal });

/**
 * Loads `path` when the component mounts and on `refetch()`. A newer request supersedes an
 * older one, and unmounting cancels whatever is in flight.
 */
export function useJson<T>(path: string, options: JsonQueryOptions = {}): JsonQuery<T> {
  const { load = publicLoad, when } = options;
  const data = shallowRef<T>();
  const error = shallowRef<unknown>();
  const loading = ref(false);
  let controller: AbortController | undefined;
  const enabled = () => when === undefined || Boolean(toValue(when));

  function reset(): void {
    controller?.abort();
    controller = undefined;
    data.value = undefined;
    error.value = undefined;
    loading.value = false;
  }

  async function refetch(): Promise<void> {
    if (!enabled()) return;
    controller?.abort();
    const current = new AbortController();
    controller = current;
    loading.value = true;
    try {
      data.value = await load<T>(path, current.signal);
      error.value = undefined;
    } catch (caught) {
      if (current.signal.aborted) return;
      error.value = caught;
    } finally {
      if (controller === current) loading.value = false;
    }
  }

  if (when !== undefined) {
    watch(when, () => {
      reset();
      void refetch();
    });
  }
  onMounted(refetch);
  onBeforeUnmount(() => controller?.abort());
  return { data, error, loading, refetch };
}
