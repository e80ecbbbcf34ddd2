/**
 * The explorer page in headless Chromium, against the real service on a socket over a scratch
 * database: the bundle is built as `npm run build` builds it, customers are made through POST
 * /identify, and every test drives the page as a person would. One browser and one browser context
 * for the file (so later pages load the bundle from the HTTP cache, as a returning user does), and
 * a fresh page per test, which means a fresh sessionStorage. Screenshots go to test-output/explorer/.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { adoptOrCompareRules } from '../../src/db/normalFormStore.js';
import type { NormalFormRules } from '../../src/identity/normalise.js';
import { createServices, DEFAULT_GOVERNANCE } from '../../src/services.js';
import { buildExplorer } from '../../web/build.js';
import { browserSkipReason, freshPagePerTest, launchBrowser, screenshotPath } from '../support/browser.js';
import { openScratchPglite, type ScratchDatabase } from '../support/databases.js';
import { identifyOver, listenOnRandomPort, type LiveApp } from '../support/liveApp.js';

const API_KEY = 'explorer-test-key-0123456789';
const API_PATH = /^\/customers\//;
const WIDE = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
/** DEFAULT_PHONE_REGION=IN, EMAIL_CANONICAL_FORM=provider: the forms customers write are one identifier. */
const INDIA: NormalFormRules = { phoneRegion: 'IN', emailCanonicalForm: 'provider' };

/**
 * Customer 1 after a merge: #2 shares 123456 with #1; #3 and #4 were two customers until
 * george@…/717171 joined them, and lorraine@…/919191 then joined that customer to #1, so #3 and
 * #4 share nothing with older contacts: `merged`. Customer 5 is someone else.
 */
const SEED = [
  { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' },
  { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' },
  { email: 'george@hillvalley.edu', phoneNumber: '919191' },
  { email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' },
  { email: 'george@hillvalley.edu', phoneNumber: '717171' },
  { email: 'lorraine@hillvalley.edu', phoneNumber: '919191' },
  { email: 'doc@hillvalley.edu', phoneNumber: '555000' },
];
const MERGED_CUSTOMER_ROWS = [
  { id: '1', email: 'lorraine@hillvalley.edu', phone: '123456', precedence: 'primary' },
  { id: '2', email: 'mcfly@hillvalley.edu', phone: '123456', precedence: 'secondary' },
  { id: '3', email: 'george@hillvalley.edu', phone: '919191', precedence: 'secondary' },
  { id: '4', email: 'biffsucks@hillvalley.edu', phone: '717171', precedence: 'secondary' },
];
/** 4 contacts + 4 emails + 3 phones; 8 contact-identifier edges + 2 merges. */
const MERGED_CUSTOMER_GRAPH = '11 nodes (4 contacts, 7 identifiers), 10 edges (8 identifier links, 2 merges)';

describe('the explorer page in headless Chromium', { skip: browserSkipReason() }, () => {
  let scratch: ScratchDatabase;
  let bundleDir: string;
  let browser: Browser;
  let context: BrowserContext;
  let open: LiveApp;
  let keyed: LiveApp;
  /** Over a table of its own, recorded with the INDIA rules, as `serve` with those settings starts. */
  let india: LiveApp;
  let indiaScratch: ScratchDatabase;
  let page: Page;

  before(async () => {
    bundleDir = await mkdtemp(join(tmpdir(), 'explorer-bundle-'));
    [scratch, indiaScratch, browser] = await Promise.all([
      openScratchPglite(),
      openScratchPglite(),
      launchBrowser(),
      buildExplorer(bundleDir),
    ]);
    open = await listenOnRandomPort({ db: scratch.db, explorerDir: bundleDir });
    keyed = await listenOnRandomPort({ db: scratch.db, explorerDir: bundleDir, http: { apiKeys: [API_KEY] } });
    for (const request of SEED) await identifyOver(open.baseUrl, request);
    assert.equal((await adoptOrCompareRules(indiaScratch.db, INDIA)).kind, 'adopted');
    india = await listenOnRandomPort({
      db: indiaScratch.db,
      ...createServices(indiaScratch.db, DEFAULT_GOVERNANCE, { rules: INDIA }),
      explorerDir: bundleDir,
    });
    context = await browser.newContext({ viewport: WIDE });
  });
  after(async () => {
    await browser?.close();
    await open?.app.close();
    await keyed?.app.close();
    await india?.app.close();
    await scratch?.dispose();
    await indiaScratch?.dispose();
    if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
  });

  freshPagePerTest(
    () => context,
    API_PATH,
    (fresh) => (page = fresh),
  );

  /** Types into the search box (so the kind control follows) and presses Enter. */
  async function search(text: string): Promise<void> {
    await page.locator('#search-input').fill(text);
    await page.locator('#search-input').press('Enter');
  }

  async function customerShown(primaryContactId: number): Promise<void> {
    await page.getByRole('heading', { name: `Customer ${primaryContactId}`, exact: true }).waitFor();
  }

  async function noticeShown(title: string): Promise<string> {
    await page.locator('#notice').getByRole('heading', { name: title, exact: true }).waitFor();
    return page.locator('#notice p').innerText();
  }

  function checkedKind(): Promise<string> {
    return page.locator('input[name="kind"]:checked').inputValue();
  }

  function tableRows() {
    return page.locator('#contacts-body tr').evaluateAll((rows) =>
      rows.map((row) => {
        const cells = [...(row as HTMLTableRowElement).cells].map((cell) => cell.innerText.trim());
        return { id: (row as HTMLElement).dataset.contactId, email: cells[1], phone: cells[2], precedence: cells[3] };
      }),
    );
  }

  /** The details panel as { term: value }. */
  function details(): Promise<Record<string, string>> {
    return page.locator('#details-list').evaluate((list) => {
      const terms = [...list.querySelectorAll('dt')];
      return Object.fromEntries(terms.map((term) => [term.textContent, (term.nextElementSibling as HTMLElement).innerText]));
    });
  }

  /** The line under the customer's heading that says what a lookup by identifiers searched for; null while hidden. */
  async function searchedLine(): Promise<string | null> {
    const line = page.locator('#customer-searched');
    return (await line.isVisible()) ? line.innerText() : null;
  }

  function hash(): Promise<string> {
    return page.evaluate(() => location.hash);
  }

  async function assertMergedCustomer(): Promise<void> {
    await customerShown(1);
    assert.deepEqual(await tableRows(), MERGED_CUSTOMER_ROWS);
    assert.equal(await page.locator('#graph-caption').innerText(), MERGED_CUSTOMER_GRAPH);
    assert.equal(await page.locator('#customer-summary .primary-id').innerText(), '#1');
    assert.equal(await page.locator('#contacts-body tr.primary').getAttribute('data-contact-id'), '1');
  }

  it('finds a merged customer by email: its contacts in the table, its identity graph, the link in the URL', async () => {
    await page.goto(open.baseUrl);
    await page.locator('#search-input').fill('McFly@HillValley.edu');
    assert.equal(await checkedKind(), 'email', 'an @ picks Email');
    await page.locator('#search-input').press('Enter');
    await assertMergedCustomer();
    assert.equal(await hash(), '#email=McFly%40HillValley.edu');
    assert.deepEqual(
      await page.locator('#customer-summary ul').first().locator('li').allInnerTexts(),
      MERGED_CUSTOMER_ROWS.map((row) => row.email),
    );
    assert.equal(await searchedLine(), 'Searched for email mcfly@hillvalley.edu', 'the normal form it looked up, not what was typed');
    assert.equal(
      await page.getByRole('status').textContent(),
      'Customer 1: 4 contacts, 4 emails, 3 phone numbers. Searched for email mcfly@hillvalley.edu.',
    );
  });

  it('finds it by phone number, the default kind for digits', async () => {
    await page.goto(open.baseUrl);
    await search('717171');
    assert.equal(await checkedKind(), 'phone');
    await assertMergedCustomer();
    assert.equal(await hash(), '#phone=717171');
  });

  it('finds it by contact id (#4, or digits with Contact id chosen), opens linked searches, and Back returns to the previous one', async () => {
    await page.goto(`${open.baseUrl}/#email=doc%40hillvalley.edu`);
    await customerShown(5);
    assert.deepEqual(
      (await tableRows()).map((row) => row.id),
      ['5'],
    );

    await search('#4');
    assert.equal(await checkedKind(), 'id');
    await assertMergedCustomer();
    assert.equal(await hash(), '#id=4');

    await page.locator('#search-input').fill('');
    await page.locator('label[for="kind-id"]').click();
    await search('3');
    assert.equal(await checkedKind(), 'id', 'digits keep the kind the person chose');
    await page.waitForFunction(() => location.hash === '#id=3');
    await assertMergedCustomer();

    await page.goBack();
    await page.goBack();
    await customerShown(5);
    assert.equal(await page.locator('#search-input').inputValue(), 'doc@hillvalley.edu');
    assert.equal(await checkedKind(), 'email');
  });

  it("shows a contact's full row, and why it belongs, when its table row is clicked", async () => {
    await page.goto(`${open.baseUrl}/#phone=123456`);
    await customerShown(1);
    assert.equal(await page.locator('#details-hint').innerText(), 'Choose a contact in the table or the graph to see its row.');

    await page.locator('#contacts-body tr[data-contact-id="2"] td').first().click();
    let shown = await details();
    assert.equal(shown['Contact id'], '#2');
    assert.equal(shown['Email'], 'mcfly@hillvalley.edu');
    assert.equal(shown['Linked to'], '#1');
    assert.equal(shown['Why it belongs'], 'It shares phone number 123456 with #1.');

    await page.locator('#contacts-body tr[data-contact-id="3"] td').first().click();
    shown = await details();
    assert.deepEqual(Object.keys(shown), [
      'Contact id',
      'Email',
      'Phone number',
      'Precedence',
      'Linked to',
      'Created',
      'Updated',
      'Why it belongs',
    ]);
    assert.equal(shown['Contact id'], '#3');
    assert.equal(shown['Phone number'], '919191');
    assert.equal(shown['Precedence'], 'secondary');
    assert.match(shown['Created'] ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    assert.match(shown['Why it belongs'] ?? '', /^Merged: it was the primary of another customer/);
    assert.equal(await page.locator('#contacts-body button[aria-current="true"]').textContent(), 'Contact #3');

    await page.screenshot({ path: await screenshotPath('explorer', 'merged-customer'), fullPage: true });
  });

  it('works with the keyboard alone: Tab to the box, Enter to search, Tab to a contact, Space or Enter to show it', async () => {
    await page.goto(open.baseUrl);
    const focused = () =>
      page.evaluate(() => {
        const element = document.activeElement as HTMLElement;
        return { name: element.id || (element.textContent ?? '').trim(), outline: getComputedStyle(element).outlineStyle };
      });
    await page.keyboard.press('Tab');
    assert.equal((await focused()).name, 'admin-key-button', 'the header comes first: its one control gives an admin key');
    await page.keyboard.press('Tab');
    assert.equal((await focused()).name, 'search-input');
    await page.keyboard.type('lorraine@hillvalley.edu');
    await page.keyboard.press('Enter');
    await assertMergedCustomer();

    const tabStops: string[] = [];
    for (let stop = 0; stop < 5; stop += 1) {
      await page.keyboard.press('Tab');
      tabStops.push((await focused()).name);
    }
    assert.deepEqual(tabStops, ['Search', 'kind-email', 'contacts-scroll', 'Contact #1', 'Contact #2']);
    assert.equal((await focused()).outline, 'solid', 'focus is visible');

    await page.keyboard.press('Space');
    assert.equal((await details())['Contact id'], '#2');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    assert.equal((await details())['Contact id'], '#3');
  });

  it('says when no customer or no contact matches (404)', async () => {
    await page.goto(open.baseUrl);
    await search('nobody@hillvalley.edu');
    assert.equal(await noticeShown('No customer found'), 'No customer has these identifiers.');
    assert.equal(await page.getByRole('status').textContent(), 'No customer found. No customer has these identifiers.');
    assert.equal(await page.locator('#customer').isHidden(), true);

    await search('#999');
    await page.waitForFunction(() => location.hash === '#id=999');
    assert.equal(await noticeShown('No customer found'), 'No live contact has id 999.');
  });

  it("shows the API's own message for bad input (400), and the page's own for an empty search", async () => {
    await page.goto(open.baseUrl);
    await search('doc@');
    assert.equal(await noticeShown('Check the search'), 'email must look like name@domain.');

    await search('#abc');
    await page.waitForFunction(() => location.hash === '#id=abc');
    assert.equal(await noticeShown('Check the search'), 'The contact id must be a positive integer.');

    await search('   ');
    assert.equal(await noticeShown('Check the search'), 'Type an email, a phone number or a contact id.');
    await page.screenshot({ path: await screenshotPath('explorer', 'bad-input') });
  });

  it('says when the email and the phone number belong to two customers (409), and opens either', async () => {
    await page.goto(open.baseUrl);
    await search('doc@hillvalley.edu, 123456');
    assert.match(await noticeShown('Two different customers'), /^doc@hillvalley\.edu and 123456 belong to two different customers/);
    assert.equal(await hash(), '#email=doc%40hillvalley.edu&phone=123456');
    assert.deepEqual(await page.locator('#notice button').allInnerTexts(), ['Open customer #1', 'Open customer #5']);
    await page.screenshot({ path: await screenshotPath('explorer', 'two-customers') });

    await page.getByRole('button', { name: 'Open customer #5' }).click();
    await customerShown(5);
    assert.equal(await hash(), '#id=5');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'results', 'focus stays in the results, not back at the top');
  });

  it('says when the service fails or cannot be reached, and tries again on request', async () => {
    await page.route('**/customers/**', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred.' } }),
      }),
    );
    await page.goto(`${open.baseUrl}/#id=2`);
    assert.equal(await noticeShown('The lookup failed'), 'An unexpected error occurred. (status 500, INTERNAL_ERROR)');

    await page.unrouteAll();
    await page.route('**/customers/**', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.locator('#notice p', { hasText: 'could not be reached' }).waitFor();

    await page.unrouteAll();
    await page.getByRole('button', { name: 'Try again' }).click();
    await assertMergedCustomer();
  });

  it('shows that a lookup is running until its answer arrives', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/customers/**', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(open.baseUrl);
    await search('919191');
    assert.equal(await noticeShown('Searching'), 'Looking up 919191…');
    assert.equal(await page.locator('#results').getAttribute('aria-busy'), 'true');
    release();
    await assertMergedCustomer();
    assert.equal(await page.locator('#results').getAttribute('aria-busy'), null);
  });

  it('asks for an API key when the API needs one, keeps it for the tab only, and forgets it on request', async () => {
    const storedKey = () => page.evaluate(() => sessionStorage.getItem('identity-explorer.apiKey'));
    await page.goto(`${keyed.baseUrl}/#id=1`);
    await page.getByRole('heading', { name: 'API key needed' }).waitFor();
    assert.equal(await page.locator('#key-message').innerText(), 'This service needs an API key for lookups.');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'key-input', 'focus moves to the key field');
    await page.screenshot({ path: await screenshotPath('explorer', 'api-key') });

    await page.keyboard.type('not-the-key-0123456789');
    await page.keyboard.press('Enter');
    await page.locator('#key-message', { hasText: 'did not accept' }).waitFor();

    await page.keyboard.type(API_KEY);
    await page.keyboard.press('Enter');
    await assertMergedCustomer();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'results', 'focus goes on to the results');
    assert.equal(await storedKey(), API_KEY);
    assert.equal(await page.locator('#key-panel').isHidden(), true);

    await page.reload();
    await assertMergedCustomer();
    assert.equal(await page.locator('#key-panel').isHidden(), true, 'a reload keeps the key');

    await page.getByRole('button', { name: 'Forget API key' }).click();
    assert.equal(await storedKey(), null);
    assert.equal(await page.getByRole('button', { name: 'Forget API key' }).isHidden(), true);
    await search('#2');
    await page.getByRole('heading', { name: 'API key needed' }).waitFor();
  });

  it('does not draw a customer too big to read, and lists every contact in the table', async () => {
    // One email and 160 phones: 160 contacts + 161 identifiers = 321 nodes, over the 300 drawn.
    for (let i = 0; i < 160; i++)
      await identifyOver(open.baseUrl, { email: 'placeholder@hillvalley.edu', phoneNumber: String(800000 + i) });
    await page.goto(open.baseUrl);
    await search('placeholder@hillvalley.edu');
    await page.getByRole('heading', { name: /^Customer \d+$/ }).waitFor();
    assert.equal((await tableRows()).length, 160);
    assert.equal(
      await page.locator('#graph-caption').innerText(),
      'Not drawn: 321 nodes are more than a picture can show legibly (at most 300). The table lists every contact.',
    );
  });

  it('fits a phone-sized screen: no sideways page scroll, the table scrolls in its own box, the graph fits', async () => {
    await page.goto(`${open.baseUrl}/#email=mcfly%40hillvalley.edu`);
    await assertMergedCustomer();
    const graphWidth = () =>
      page
        .locator('#graph canvas')
        .first()
        .evaluate((canvas) => canvas.getBoundingClientRect().width);
    const wideGraph = await graphWidth();

    await page.setViewportSize(PHONE);
    await page.waitForFunction((wide) => document.querySelector('#graph canvas')!.getBoundingClientRect().width < wide, wideGraph);
    const layout = await page.evaluate(() => {
      const scroller = document.getElementById('contacts-scroll')!;
      return {
        pageScrollWidth: document.documentElement.scrollWidth,
        viewportWidth: document.documentElement.clientWidth,
        tableScrolls: scroller.scrollWidth > scroller.clientWidth,
        graphRight: document.getElementById('graph')!.getBoundingClientRect().right,
      };
    });
    assert.equal(layout.viewportWidth, PHONE.width);
    assert.ok(layout.pageScrollWidth <= layout.viewportWidth, `the page is ${layout.pageScrollWidth}px wide`);
    assert.equal(layout.tableScrolls, true);
    assert.ok(layout.graphRight <= PHONE.width);
    assert.ok((await graphWidth()) <= PHONE.width);

    await page.locator('#contacts-body tr[data-contact-id="4"] td').first().click();
    assert.equal((await details())['Contact id'], '#4');
    await page.screenshot({ path: await screenshotPath('explorer', 'phone'), fullPage: true });
  });

  it('shows the normal form it searched for: for the identifiers given, whatever their written form, and not for a contact id', async () => {
    // Joins customer 5 (doc@hillvalley.edu): the service stores doc@hillvalley.edu and 5550109999.
    await identifyOver(open.baseUrl, { email: 'Doc@HillValley.edu', phoneNumber: '(555) 010-9999' });
    await page.goto(open.baseUrl);
    const status = () => page.getByRole('status').textContent();

    await search('555 010 9999');
    assert.equal(await checkedKind(), 'phone');
    await customerShown(5);
    assert.equal(await searchedLine(), 'Searched for phone 5550109999');
    assert.equal(await status(), 'Customer 5: 2 contacts, 1 email, 2 phone numbers. Searched for phone 5550109999.');
    assert.equal(await page.locator('#search-input').inputValue(), '555 010 9999', 'the box keeps what was typed');
    await page.screenshot({ path: await screenshotPath('explorer', 'searched-for') });

    await search('DOC@hillvalley.edu , (555) 010-9999');
    await page.locator('#customer-searched', { hasText: 'email' }).waitFor();
    assert.equal(await searchedLine(), 'Searched for email doc@hillvalley.edu and phone 5550109999');
    assert.equal(
      await status(),
      'Customer 5: 2 contacts, 1 email, 2 phone numbers. Searched for email doc@hillvalley.edu and phone 5550109999.',
    );

    await search('#5');
    await page.waitForFunction(() => location.hash === '#id=5');
    await page.locator('#customer-searched').waitFor({ state: 'hidden' });
    await customerShown(5);
    assert.equal(await searchedLine(), null, 'a lookup by contact id searched for no identifier');
    assert.equal(await status(), 'Customer 5: 2 contacts, 1 email, 2 phone numbers.');
  });

  it('shows the form the rules look up: E.164 for DEFAULT_PHONE_REGION=IN, the provider form for EMAIL_CANONICAL_FORM=provider', async () => {
    await identifyOver(india.baseUrl, { email: 'First.Last+shop@googlemail.com', phoneNumber: '098765 43210' });
    await page.goto(india.baseUrl);

    await search('098765 43210');
    await customerShown(1);
    assert.equal(await searchedLine(), 'Searched for phone +919876543210');
    assert.deepEqual(await page.locator('#customer-summary ul').allInnerTexts(), ['firstlast@gmail.com', '+919876543210']);
    await page.screenshot({ path: await screenshotPath('explorer', 'searched-for-e164') });

    await search('first.last+shop@googlemail.com, +91 98765-43210');
    await page.locator('#customer-searched', { hasText: 'email' }).waitFor();
    assert.equal(await searchedLine(), 'Searched for email firstlast@gmail.com and phone +919876543210');
    assert.equal(
      await page.getByRole('status').textContent(),
      'Customer 1: 1 contact, 1 email, 1 phone number. Searched for email firstlast@gmail.com and phone +919876543210.',
    );
  });

  it('still shows the customer when the service does not say what it searched for (an older service)', async () => {
    await page.route('**/customers/lookup?*', async (route) => {
      const response = await route.fetch();
      const { searched: _searched, ...older } = (await response.json()) as Record<string, unknown>;
      await route.fulfill({ response, json: older });
    });
    await page.goto(open.baseUrl);
    await search('717171');
    await assertMergedCustomer();
    assert.equal(await searchedLine(), null);
    assert.equal(await page.getByRole('status').textContent(), 'Customer 1: 4 contacts, 4 emails, 3 phone numbers.');
  });
});
