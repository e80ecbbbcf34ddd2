/**
 * The keys the person typed, kept in sessionStorage: they survive reloads and links opened in the
 * same tab, and are gone when the tab closes. Never in the URL, never in localStorage.
 *
 * Two keys, kept apart: the API key opens the read API (lookups, history); the admin key opens the
 * admin API (erase, unmerge) and is sent only with those requests.
 */
/** One key in sessionStorage under `name`: read, kept, forgotten. */
function sessionKey(name: string) {
  return {
    stored: (): string | null => sessionStorage.getItem(name),
    store: (key: string): void => sessionStorage.setItem(name, key),
    forget: (): void => sessionStorage.removeItem(name),
  };
}

const apiKey = sessionKey('identity-explorer.apiKey');
const adminKey = sessionKey('identity-explorer.adminKey');

export const { stored: storedApiKey, store: storeApiKey, forget: forgetApiKey } = apiKey;
export const { stored: storedAdminKey, store: storeAdminKey, forget: forgetAdminKey } = adminKey;
