/**
 * The admin actions in words: what the confirmation says before an erasure or an unmerge, what the
 * page says after one, and the API's refusals. Pure (no DOM), so it is unit-tested. Values are shown
 * as the API sends them; the page sets them as text, never as HTML.
 */
import { describeEvent } from './historyText.js';
import type { Contact, ContactEvent, Erasure, StillLink, Unmerged } from './types.js';

/** What a confirmation asks: its heading, its paragraphs, and the words of the button that acts. */
export interface Confirmation {
  title: string;
  paragraphs: string[];
  confirmLabel: string;
}

/** The page's message after an action, or about its failure. */
export interface AdminMessage {
  title: string;
  message: string;
  /** Lines listed under the message (what still joins two sides); none for most. */
  details: string[];
}

const ids = (values: readonly number[]): string => values.join(', ');
/** `1 and 3`, `1, 3 and 5`. */
const andList = (values: readonly number[]): string =>
  values.length <= 1 ? ids(values) : `${ids(values.slice(0, -1))} and ${values[values.length - 1]}`;
const plural = (n: number, singular: string, several: string): string => (n === 1 ? singular : several);

export function eraseConfirmation(contact: Pick<Contact, 'id' | 'email' | 'phoneNumber'>): Confirmation {
  const values = [
    ...(contact.email !== null ? [`email ${contact.email}`] : []),
    ...(contact.phoneNumber !== null ? [`phone number ${contact.phoneNumber}`] : []),
  ];
  const held =
    values.length === 0
      ? 'It holds no email or phone number any more.'
      : `Its ${values.join(' and ')} ${plural(values.length, 'is', 'are')} forgotten everywhere: in every contact that holds ` +
        `${plural(values.length, 'it', 'them')}, in the history and in exact block rules. A contact left with neither email nor phone number is erased too.`;
  return {
    title: `Erase contact #${contact.id}?`,
    paragraphs: [
      held,
      'The customer may split: contacts that only this contact’s email or phone number held together become separate customers.',
      'This cannot be undone.',
    ],
    confirmLabel: `Erase contact #${contact.id}`,
  };
}

/** `Contact 2 erased; customers left: 1, 3.` and what split. */
export function erasedMessage(result: Erasure): AdminMessage {
  const erased = result.erasedContactIds;
  const left = result.customers.map((contactIds) => contactIds[0]).filter((id): id is number => id !== undefined);
  const title = `${plural(erased.length, 'Contact', 'Contacts')} ${ids(erased)} erased`;
  const sentences = [
    `${title}; ${left.length === 0 ? 'no customer is left' : `${plural(left.length, 'customer', 'customers')} left: ${ids(left)}`}.`,
    ...result.splits.map((split) => `Customer ${split.ownerId} split into customers ${andList(split.into)}.`),
    ...(result.blockRulesRemoved > 0
      ? [`${result.blockRulesRemoved} exact block ${plural(result.blockRulesRemoved, 'rule', 'rules')} for an erased value removed.`]
      : []),
  ];
  return { title, message: sentences.join(' '), details: [] };
}

/**
 * Which customer to show after an erasure: the one the shown customer's primary still belongs to,
 * or else the first one left; null when none is left.
 */
export function customerAfterErasure(result: Erasure, shownPrimaryId: number): number | null {
  const kept = result.customers.find((contactIds) => contactIds.includes(shownPrimaryId));
  return (kept ?? result.customers[0])?.[0] ?? null;
}

export function unmergeConfirmation(event: ContactEvent): Confirmation {
  return {
    title: `Undo merge ${event.id}?`,
    paragraphs: [
      describeEvent(event).sentence,
      'The two sides it joined become two customers again, and a separation keeps later requests from joining them. No contact is deleted, and the merge stays in the history.',
      'If something else still joins the two sides (a shared email or phone number, or another merge), nothing changes and the page says what.',
    ],
    confirmLabel: 'Unmerge',
  };
}

/** `Merge 6 undone: customers 1 and 3 are apart again.` */
export function unmergedMessage(result: Unmerged): AdminMessage {
  const title = `Merge ${result.mergeEventId} undone`;
  return {
    title,
    message: `${title}: customers ${andList(result.into)} are apart again. Separation ${result.separation.id} keeps requests from joining them again.`,
    details: [],
  };
}

/** One link of what still joins two sides: `email of #7 and #8`, `merge 5 (#3 and #4)`. */
export function describeStillLink(link: StillLink): string {
  const pair = link.contactIds.map((id) => `#${id}`).join(' and ');
  if (link.field === 'merge') return `merge ${link.mergeEventId ?? '?'} (${pair})`;
  return `${link.field === 'email' ? 'email' : 'phone number'} of ${pair}`;
}

/** Why an admin request failed, in the API's words, with what the person can do about it. */
export interface AdminFailure {
  /** null: no answer at all. */
  status: number | null;
  code: string | null;
  message: string;
  /** STILL_LINKED: the chain that still joins the two sides. */
  links?: StillLink[];
}

export function failureMessage(action: 'erasure' | 'unmerge', failure: AdminFailure): AdminMessage {
  const { status, code, message } = failure;
  if (status === 401) {
    return {
      title: 'Admin key not accepted',
      message: `The service did not accept the admin key (${message}) Type another with “Change admin key…”, or forget it.`,
      details: [],
    };
  }
  if (status === 403 && code === 'ADMIN_DISABLED') return { title: 'Admin actions are disabled', message, details: [] };
  if (code === 'STILL_LINKED') {
    const links = failure.links ?? [];
    return {
      title: 'Still linked: nothing was unmerged',
      message: links.length > 0 ? `${message} What still joins them:` : message,
      details: links.map(describeStillLink),
    };
  }
  const title = action === 'erasure' ? 'The erasure failed' : 'The unmerge failed';
  const suffix = status === null || status < 500 ? '' : ` (status ${status}${code ? `, ${code}` : ''})`;
  return { title, message: `${message}${suffix}`, details: [] };
}
