// What a composition root has opened, in order, so that one close() (or a failed start) stops
// it all in reverse: channels before their connection, the connection before the ledger.
export interface ResourceStack {
  /** Records how to close something just opened; returns the thing, for chaining. */
  push<T>(thing: T, close: (thing: T) => Promise<void> | void): T;
  /** Closes everything pushed, last first; a failing closer does not stop the others. */
  close(): Promise<void>;
}

export function resourceStack(onError: (err: Error) => void): ResourceStack {
  const closers: (() => Promise<void> | void)[] = [];
  return {
    push(thing, close) {
      closers.push(() => close(thing));
      return thing;
    },
    async close() {
      while (closers.length > 0) {
        try {
          await closers.pop()!();
        } catch (err) {
          onError(err as Error);
        }
      }
    },
  };
}
