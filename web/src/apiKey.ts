/**
 * The keys the person typed, kept in sessionStorage: they survive reloads and links opened in the
 * same tab, and are gone when the tab closes. Never in the URL, never in localStorage.
 *
 * Two keys, kept apart: the API key opens the read API (lookups, history); the admin key opens the
 * admin API (erase, unmerge) and is sent only with those requests.
 */
const STORAGE_KEY = 'identity-explorer.apiKey';
const ADMIN_STORAGE_KEY = 'identity-explorer.adminKey';

export function storedApiKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeApiKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function forgetApiKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

export function storedAdminKey(): string | null {
  return sessionStorage.getItem(ADMIN_STORAGE_KEY);
}

export function storeAdminKey(key: string): void {
  sessionStorage.setItem(ADMIN_STORAGE_KEY, key);
}

export function forgetAdminKey(): void {
  sessionStorage.removeItem(ADMIN_STORAGE_KEY);
}
