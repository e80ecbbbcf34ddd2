/** Runs work again that the store aborted to keep transactions serialisable or deadlock-free. */

export interface RetryOptions {
  attempts: number;
  /** Which failures may simply be run again; the store knows its own (`IdentifyStore.isRetryable`). */
  isRetryable: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number) => void;
}

export async function withRetry<T>(work: () => Promise<T>, { attempts, isRetryable, onRetry }: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isRetryable(error) || attempt >= attempts) throw error;
      onRetry?.(error, attempt);
      // Jittered backoff so that the same racers do not collide again in lock-step.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}
