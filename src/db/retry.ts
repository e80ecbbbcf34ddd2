/** Retries work that PostgreSQL aborted to keep transactions serialisable or deadlock-free. */
import { isRetryable } from './errors.js';

export interface RetryOptions {
  attempts: number;
  onRetry?: (error: unknown, attempt: number) => void;
}

export async function withRetry<T>(work: () => Promise<T>, { attempts, onRetry }: RetryOptions): Promise<T> {
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
