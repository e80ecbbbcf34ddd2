/**
 * The history and explain answers in words: a title and a sentence per event, a sentence per link
 * of an explanation. Pure (no DOM), so it is unit-tested. Values are shown as the API sends them;
 * the page sets them as text, never as HTML.
 */
import { count, formatTimestamp } from './format.js';
import type { ContactEvent, Explanation, PathStep } from './types.js';

const FIELD_NAMES: Record<string, string> = { email: 'email', phoneNumber: 'phone number' };

const TITLES: Record<string, string> = {
  'customer.created': 'New customer',
  'customer.updated': 'New contact',
  'customer.merged': 'Customers merged',
  'customer.relinked': 'Links put in place',
  'customer.split': 'Customer split',
  'contact.erased': 'Contact erased',
  'contact.redundant': 'Contact made redundant',
  'identifier.blocked': 'Identifier blocked',
  'identifier.unblocked': 'Identifier unblocked',
  'identifier.quarantined': 'Identifier quarantined',
  'customer.unmerged': 'Merge undone',
  'request.separated': 'Request kept apart',
  'separation.removed': 'Separation removed',
};

export interface EventText {
  title: string;
  sentence: string;
}

const ids = (values: readonly number[]): string => values.map((id) => `#${id}`).join(', ');
const numbers = (value: unknown): number[] =>
  Array.isArray(value) ? value.filter((item): item is number => typeof item === 'number') : [];
const fieldName = (value: unknown): string => FIELD_NAMES[String(value)] ?? 'identifier';

export function describeEvent(event: ContactEvent): EventText {
  const title = TITLES[event.type] ?? event.type;
  const [customer] = event.customerIds;
  const others = event.customerIds.slice(1);
  // What each type records (docs/history.md); read defensively, as the log outlives this page.
  const detail = event.detail as Record<string, unknown>;
  switch (event.type) {
    case 'customer.created':
      return { title, sentence: `Contact ${ids(event.contactIds)} was created: a customer of its own.` };
    case 'customer.updated': {
      const brought = newFields(detail.new);
      return {
        title,
        sentence: `Contact ${ids(event.contactIds)} was added to customer #${customer}${brought ? `, bringing a new ${brought}` : ''}.`,
      };
    }
    case 'customer.merged': {
      const absorbed = numbers(detail.absorbed);
      const carried = [event.email, event.phoneNumber].filter((value): value is string => value !== null);
      return {
        title,
        sentence:
          `Customer ${ids(absorbed.length > 0 ? absorbed : others)} joined customer #${customer}` +
          (carried.length > 0 ? `: a request carried ${carried.join(' and ')}, which belonged to both.` : '.') +
          (event.contactIds.length > 0 ? ` Re-linked: ${ids(event.contactIds)}.` : ''),
      };
    }
    case 'customer.relinked':
      return {
        title,
        sentence:
          (detail.promoted === true
            ? `Contact #${customer} became the primary` + (others.length > 0 ? ` in place of deleted ${ids(others)}.` : '.')
            : `The links of customer #${customer} were put in place.`) +
          (event.contactIds.length > 0 ? ` Re-linked: ${ids(event.contactIds)}.` : ''),
      };
    case 'customer.split': {
      const into = numbers(detail.into);
      const cause = typeof detail.cause === 'string' ? ` (${detail.cause})` : '';
      return { title, sentence: `Customer #${customer} was split into ${ids(into.length > 0 ? into : event.customerIds)}${cause}.` };
    }
    case 'contact.erased': {
      const several = event.contactIds.length > 1;
      return {
        title: several ? 'Contacts erased' : title,
        sentence: several
          ? `Contacts ${ids(event.contactIds)} were erased: their emails and phone numbers were forgotten everywhere.`
          : `Contact ${ids(event.contactIds)} was erased: its email and phone number were forgotten everywhere.`,
      };
    }
    case 'contact.redundant':
      return {
        title,
        sentence: `An import of older checkouts brought what ${event.contactIds.length > 1 ? `contacts ${ids(event.contactIds)} hold` : `contact ${ids(event.contactIds)} holds`} first: soft-deleted, linked to #${event.customerIds[0] ?? '?'}.`,
      };
    case 'customer.unmerged': {
      const into = numbers(detail.into);
      const merge = typeof detail.mergeEventId === 'number' ? `Merge ${detail.mergeEventId}` : 'A merge';
      const separation = typeof detail.separationId === 'number' ? ` (separation ${detail.separationId})` : '';
      return {
        title,
        sentence: `${merge} was undone: customers ${ids(into.length > 0 ? into : event.customerIds)} are apart again, and requests may not join them${separation}.`,
      };
    }
    case 'request.separated': {
      const ignored = typeof detail.ignored === 'string' ? fieldName(detail.ignored) : 'identifier';
      const separation = typeof detail.separationId === 'number' ? ` (separation ${detail.separationId})` : '';
      return {
        title,
        sentence: `A request carried identifiers of separated customers ${ids(event.customerIds)}: it was answered with customer #${customer}, and its ${ignored} was not linked${separation}.`,
      };
    }
    case 'separation.removed': {
      const separation = typeof detail.separationId === 'number' ? `Separation ${detail.separationId}` : 'A separation';
      return {
        title,
        sentence: `${separation} between ${ids(event.contactIds.length > 0 ? event.contactIds : event.customerIds)} was removed: a request carrying identifiers of both may join them again.`,
      };
    }
    case 'identifier.blocked':
    case 'identifier.unblocked':
    case 'identifier.quarantined': {
      const rule = typeof detail.ruleId === 'number' ? `rule ${detail.ruleId}` : 'a rule';
      const match = typeof detail.match === 'string' ? `, ${detail.match} match` : '';
      const verb = event.type.slice('identifier.'.length);
      return {
        title,
        sentence: `A ${fieldName(detail.field)} was ${verb} (${rule}${match}). Customers concerned: ${ids(event.customerIds)}.`,
      };
    }
    default:
      return { title, sentence: `Customers ${ids(event.customerIds)}; contacts ${ids(event.contactIds) || 'none'}.` };
  }
}

/** `detail.new` of customer.updated: `['email', 'phoneNumber']` → `email and phone number`. */
function newFields(value: unknown): string {
  if (!Array.isArray(value)) return '';
  return value.map((field) => fieldName(field)).join(' and ');
}

export interface PathText {
  summary: string;
  /** One sentence per link, in order from `from` to `to`. */
  links: string[];
}

export function describeExplanation(explanation: Explanation): PathText {
  const { from, to, steps } = explanation;
  if (explanation.kind === 'unrecorded') return { summary: explanation.message ?? 'No recorded link joins them.', links: [] };
  if (steps.length <= 1) return { summary: `#${to} is the contact the chain starts from.`, links: [] };
  const links: string[] = [];
  for (let i = 1; i < steps.length; i += 2) {
    const before = steps[i - 1] as PathStep;
    const after = steps[i + 1] as PathStep;
    links.push(describeLink(steps[i] as PathStep, contactOf(before), contactOf(after)));
  }
  return { summary: `#${to} belongs with #${from} through ${count(links.length, 'link')}:`, links };
}

function contactOf(step: PathStep): string {
  return step.kind === 'contact' ? `#${step.id}` : '?';
}

function describeLink(step: PathStep, a: string, b: string): string {
  if (step.kind === 'identifier') return `${a} and ${b} share ${FIELD_NAMES[step.field]} ${step.value}.`;
  if (step.kind === 'merge') {
    const request = step.requestId === null ? 'a request' : `request ${step.requestId}`;
    return `${a} and ${b} were joined by a merge: ${request} at ${formatTimestamp(step.at)} carried ${step.email} and ${step.phoneNumber} (event ${step.eventId}).`;
  }
  return `${a} and ${b}.`;
}
