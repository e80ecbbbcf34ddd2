/**
 * The API key the person typed, kept in sessionStorage: it survives reloads and links opened in
 * the same tab, and is gone when the tab closes. Never in the URL, never in localStorage.
 */
const STORAGE_KEY = 'identity-explorer.apiKey';

export function storedApiKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeApiKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetApiKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
