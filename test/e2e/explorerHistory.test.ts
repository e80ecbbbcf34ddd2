/**
 * The explorer's history timeline and "why is this contact here?" in headless Chromium, against
 * the real service on a socket over a scratch database, as test/e2e/explorer.test.ts does.
 * Customers are made by the identify use case with the event log on (each request with its own
 * request id); one customer's rows are inserted directly, as a table written before the log.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildExplorer } from '../../web/build.js';
import { browserSkipReason, freshPagePerTest, launchBrowser, screenshotPath } from '../support/browser.js';
import { openScratchPglite, type ScratchDatabase } from '../support/databases.js';
import { listenOnRandomPort, type LiveApp } from '../support/liveApp.js';
import { createServices } from '../../src/services.js';

const API_PATH = /^\/customers\//;

/**
 * The merged customer of explorer.test.ts: #3 and #4 were two customers until order-5
 * (george, 717171) joined them, and order-6 (lorraine, 919191) joined that customer to #1.
 * Doc (#5) is someone else.
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

describe('the explorer’s history and explain in headless Chromium', { skip: browserSkipReason() }, () => {
  let scratch: ScratchDatabase;
  let bundleDir: string;
  let browser: Browser;
  let context: BrowserContext;
  let live: LiveApp;
  let page: Page;

  before(async () => {
    bundleDir = await mkdtemp(join(tmpdir(), 'explorer-bundle-'));
    [scratch, browser] = await Promise.all([openScratchPglite(), launchBrowser(), buildExplorer(bundleDir)]);
    const { identifyService } = createServices(scratch.db);
    for (const [index, request] of SEED.entries()) await identifyService.identify(request, { requestId: `order-${index + 1}` });
    // Marty (#6) and Jennifer (#7): one customer from before the event log, sharing nothing.
    await scratch.db.query(
      `INSERT INTO "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence") VALUES
         ('marty@hillvalley.edu', '555111', NULL, 'primary'), ('jennifer@hillvalley.edu', '555222', 6, 'secondary')`,
    );
    // Doc's customer gets a long history: 120 more events than its creation.
    await scratch.db.query(
      `INSERT INTO "ContactEvent" ("requestId", "type", "customerIds", "contactIds")
       SELECT 'bulk-' || i, 'customer.relinked', '{5}', '{}' FROM generate_series(1, 120) AS i`,
    );
    live = await listenOnRandomPort({ db: scratch.db, explorerDir: bundleDir, identifyService });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await live?.app.close();
    await scratch?.dispose();
    if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
  });

  freshPagePerTest(
    () => context,
    API_PATH,
    (fresh) => (page = fresh),
  );

  async function open(hash: string, primaryContactId: number): Promise<void> {
    await page.goto(`${live.baseUrl}/#${hash}`);
    await page.getByRole('heading', { name: `Customer ${primaryContactId}`, exact: true }).waitFor();
  }

  const historyStatus = () => page.locator('#history-status').innerText();
  const graphPath = () => page.locator('#graph').getAttribute('data-path');

  async function chooseContact(id: number): Promise<void> {
    await page.locator(`#contacts-body tr[data-contact-id="${id}"] td`).first().click();
  }

  async function explained(): Promise<{ summary: string; links: string[] }> {
    await page
      .locator('#explain-summary')
      .filter({ hasNotText: /^Finding the chain/ })
      .filter({ hasText: /./ })
      .waitFor();
    return { summary: await page.locator('#explain-summary').innerText(), links: await page.locator('#explain-links li').allInnerTexts() };
  }

  it('shows the history as a timeline, oldest first: each event’s kind, time, request id and contacts', async () => {
    await open('email=lorraine%40hillvalley.edu', 1);
    await page.locator('#history-status', { hasText: 'oldest first' }).waitFor();
    assert.equal(await historyStatus(), '6 events, oldest first.');
    assert.equal(await page.locator('#history-note').isHidden(), true, 'a complete history needs no note');
    const events = page.locator('#history-events li');
    assert.deepEqual(await events.locator('strong').allInnerTexts(), [
      'New customer',
      'New contact',
      'New customer',
      'New customer',
      'Customers merged',
      'Customers merged',
    ]);
    assert.equal(
      await events.nth(5).locator('p').nth(1).innerText(),
      'Customer #3 joined customer #1: a request carried lorraine@hillvalley.edu and 919191, which belonged to both. Re-linked: #3, #4.',
    );
    assert.equal(await events.nth(5).locator('.event-meta').innerText(), 'request order-6 · event 6 · contacts #3, #4');
    assert.match(await events.nth(0).locator('time').innerText(), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    await page.screenshot({ path: await screenshotPath('explorer', 'history'), fullPage: true });
  });

  it('explains why a contact is here: the chain in words, and emphasised on the graph', async () => {
    await open('id=4', 1);
    assert.equal(await page.locator('#explain').isHidden(), true, 'nothing to explain before a contact is chosen');
    await chooseContact(4);
    await page.getByRole('button', { name: 'Why is #4 here?' }).click();
    assert.deepEqual(await explained(), {
      summary: '#4 belongs with #1 through 2 links:',
      links: [
        (await mergeSentence('#1 and #3', 'order-6', 'lorraine@hillvalley.edu and 919191', 6)) as string,
        (await mergeSentence('#3 and #4', 'order-5', 'george@hillvalley.edu and 717171', 5)) as string,
      ],
    });
    assert.equal(
      await graphPath(),
      'contact:1 contact:3 contact:4 explained:6:contact:1:contact:3 explained:5:contact:3:contact:4',
      'the path is emphasised on the graph',
    );
    await page.screenshot({ path: await screenshotPath('explorer', 'explain'), fullPage: true });

    // From another contact, chosen with the keyboard.
    await page.locator('#explain-from').selectOption('2');
    assert.equal(await graphPath(), null, 'a new start clears the old answer');
    await page.locator('#explain-button').focus();
    await page.keyboard.press('Enter');
    const fromTwo = await explained();
    assert.equal(fromTwo.summary, '#4 belongs with #2 through 3 links:');
    assert.equal(fromTwo.links[0], '#2 and #1 share phone number 123456.');
    assert.match((await graphPath()) ?? '', /^contact:2 phone:123456 contact:1 contact:3 contact:4 /);

    await chooseContact(2);
    assert.equal(await graphPath(), null, 'choosing another contact clears the emphasis');
    assert.equal(await page.locator('#explain-summary').innerText(), '');
  });

  /** The sentence of a merge link, with the time the page shows for that event. */
  async function mergeSentence(pair: string, requestId: string, carried: string, eventId: number): Promise<string> {
    const shown = await page
      .locator('#history-events li')
      .nth(eventId - 1)
      .locator('time')
      .innerText();
    return `${pair} were joined by a merge: request ${requestId} at ${shown} carried ${carried} (event ${eventId}).`;
  }

  it('a customer written before the event log: says there is no history, and explains nothing it cannot', async () => {
    await open('email=jennifer%40hillvalley.edu', 6);
    await page.locator('#history-status', { hasText: 'No events.' }).waitFor();
    assert.match(await page.locator('#history-note').innerText(), /^No events are recorded for this customer/);
    assert.equal(await page.locator('#history-events li').count(), 0);
    await chooseContact(7);
    await page.getByRole('button', { name: 'Why is #7 here?' }).click();
    const answer = await explained();
    assert.match(answer.summary, /no recorded link joins them/);
    assert.deepEqual(answer.links, []);
    assert.equal(await graphPath(), null, 'no path is drawn');
  });

  it('shows a long history a page at a time, and moves focus to the first event it added', async () => {
    await open('id=5', 5);
    await page.locator('#history-status', { hasText: 'oldest first' }).waitFor();
    assert.equal(await historyStatus(), '100 of 121 events, oldest first.');
    assert.equal(await page.locator('#history-events li').count(), 100);
    await page.getByRole('button', { name: 'Show later events' }).click();
    await page.locator('#history-status', { hasText: /^121 events/ }).waitFor();
    assert.equal(await page.locator('#history-events li').count(), 121);
    assert.equal(await page.getByRole('button', { name: 'Show later events' }).isHidden(), true);
    assert.equal(
      await page.evaluate(() => document.activeElement?.querySelector('.event-meta')?.textContent),
      'request bulk-100 · event 107',
    );
  });

  it('says when the history cannot be loaded, and tries again on request', async () => {
    await page.route('**/customers/*/history*', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'DATABASE_UNAVAILABLE', message: 'The database is not reachable; try again shortly.' } }),
      }),
    );
    await open('id=1', 1);
    await page.locator('#history-status', { hasText: 'could not be loaded' }).waitFor();
    assert.equal(await historyStatus(), 'The history could not be loaded: The database is not reachable; try again shortly. (status 503)');
    await page.unrouteAll();
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.locator('#history-status', { hasText: '6 events, oldest first.' }).waitFor();
  });
});
