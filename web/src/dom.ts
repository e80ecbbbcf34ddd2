/**
 * DOM helpers. Content is always set as text, never as HTML: emails are typed by shoppers.
 */
import { formatTimestamp } from './format.js';

type Child = Node | string;

/** `<tag class=… attr=…>children</tag>`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** The element with this id, which index.html must have, as the type the code expects. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`index.html has no ${type.name} #${id}`);
  return element;
}

/** A `<time>` that reads as `2023-04-01 00:00:00 UTC` and keeps the exact instant in its title. */
export function timestamp(iso: string): HTMLTimeElement {
  return h('time', { datetime: iso, title: iso }, formatTimestamp(iso));
}
