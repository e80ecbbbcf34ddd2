/**
 * The search form: one box, a kind control (Email / Phone / Contact id) that follows what is
 * typed, and Enter to search. It only reads and fills the form; main.ts decides what happens.
 */
import { byId } from './dom.js';
import { inferKind, parseSearch, toSearchText, type ParsedSearch, type SearchKind, type SearchQuery } from './search.js';

export interface SearchForm {
  /** Shows `query` in the form, e.g. after Back or when a link is opened. */
  fill(query: SearchQuery): void;
}

export function createSearchForm(onSearch: (parsed: ParsedSearch) => void): SearchForm {
  const form = byId('search-form', HTMLFormElement);
  const box = byId('search-input', HTMLInputElement);
  const kinds = form.elements.namedItem('kind') as RadioNodeList;
  const currentKind = () => kinds.value as SearchKind;

  box.addEventListener('input', () => {
    kinds.value = inferKind(box.value, currentKind());
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onSearch(parseSearch(box.value, currentKind()));
  });
  return {
    fill(query) {
      const { text, kind } = toSearchText(query);
      box.value = text;
      kinds.value = kind;
    },
  };
}
