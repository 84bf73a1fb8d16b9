// Waits that a stop (or a pause) ends at once: a backoff or a poll interval must not hold up a
// close() for its whole length. Each set of sleeps is woken together.
export interface WakeableSleeps {
  /** Resolves after `ms`, or when woken (at once when `ms` is 0 or less). */
  sleep(ms: number): Promise<void>;
  /** Ends every sleep under way. */
  wakeAll(): void;
}

export function wakeableSleeps(): WakeableSleeps {
  const sleepers = new Set<() => void>();
  return {
    sleep: (ms) => (ms <= 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    })),
    wakeAll() {
      for (const wake of [...sleepers]) wake();
    },
  };
}
