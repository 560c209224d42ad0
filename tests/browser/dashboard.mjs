// Drives Debian's headless Chromium through the dashboard at `/` of a real `serve --demo`
// (SQLite, or the database in SECURESCORE_BROWSER_DATABASE_URL) and compares what it shows
// with what the GraphQL API answers for the same token:
// - nothing is requested outside the server's origin, and the page reports no error;
// - the score tile, comparison bars, trend points and alert marks, and the ranked actions
//   carry the API's values;
// - clicking a day (and keyboard: arrow keys and Enter; Shift-click for a second day) shows
//   the changes scoreDiff gives for those dates, regressions first, and under each the
//   directory audit events (who changed it) scoreDiff names;
// - a SecurityReader sees no state controls; a partner picks among its tenants, sees the
//   estate per action as the API rolls it up and goes from an action to the tenants failing it
//   (at a phone's width too);
// - a SecurityAdmin setting an action's state moves the tile (live, by the subscription);
// - at a phone's width nothing overflows the page;
// - a caller whose query-cost budget runs out is told so and the page waits the server's
//   Retry-After before asking again.
// Screenshots go to target/browser/dashboard-*.png.
import { join } from 'node:path';
import { check, checkerToken, launchBrowser, screenshotDir, startDemoServer, watch } from './harness.mjs';

const secret = 'dashboard-check-secret-0123456789abcdef';
const label = process.env.SECURESCORE_BROWSER_LABEL ?? 'sqlite';
let browser;
let server;
let passed = 0;

async function finish(failure) {
  if (browser) await browser.close();
  server?.stop();
  if (failure) {
    console.error(`dashboard browser check failed: ${failure.stack ?? failure}`);
    console.log(`dashboard (${label}): ${passed} passed, 1 failed`);
    process.exit(1);
  }
  console.log(`dashboard (${label}): ${passed} passed, 0 failed`);
  process.exit(0);
}

/** Runs one named check and counts it. */
async function step(name, body) {
  try {
    await body();
  } catch (error) {
    error.message = `${name}: ${error.message}`;
    throw error;
  }
  passed += 1;
  console.log(`  ok  ${name}`);
}

/**
 * Asks the API directly, as a script would, with a token of its own subject (its own query-cost
 * budget, so the page's is the page's alone); when the server says RATE_LIMITED it waits the
 * Retry-After given and asks again.
 */
async function api(origin, token, query, variables = {}) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    const throttled = body.errors?.[0]?.extensions?.code === 'RATE_LIMITED';
    if (throttled && attempt < 30) {
      await new Promise((r) => setTimeout(r, 1000 * (body.errors[0].extensions.retryAfter ?? 1)));
      continue;
    }
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  }
}

const TENANT_QUERY = `query Check($id: ID!, $from: Date!, $to: Date!, $ahead: Date!) { tenant(id: $id) {
  name goal zones { good fair }
  forecast(to: $ahead) { date percentage }
  weeks: trends(from: $from, to: $to) { from pointsAchieved pointsRegressed regressedActions riskAcceptedPoints percentageAtEnd }
  months: trends(from: $from, to: $to, period: MONTH) { from pointsAchieved pointsRegressed regressedActions riskAcceptedPoints percentageAtEnd }
  score { date score maxScore percentage coverage plannedScore
    frameworks { framework percentage actionsCompleted actionsTotal }
    licenseGaps { license actions maxScore } }
  comparison { basis averagePercentage }
  scoreHistory(from: $from, to: $to) { date percentage }
  alerts(first: 100) { edges { node { date } } }
  improvementActions(includeCompleted: true) { action { id requiresLicenses } score potentialIncrease scoreImpact status
    plan { status assignedTo dueDate tags } }
} }`;

const ESTATE_QUERY = `query Estate($fw: String) { portfolio { tenantCount
  actions(framework: $fw) { action { id } statuses { status tenantCount } pointsAtStake } } }`;

const FAILING_QUERY = `query Failing($id: ID!) { tenants(first: 100, orderBy: {field: PERCENTAGE},
  filter: {action: {actionId: $id, statuses: [NOT_COMPLETED, PARTIAL]}}) { edges { node { id name } } } }`;

const DIFF_QUERY = `query Diff($id: ID!, $from: Date!, $to: Date!) { tenant(id: $id) { scoreDiff(from: $from, to: $to) {
  scoreDelta percentageDelta changes { action { id } scoreDelta directoryChanges { id } } } } }`;

function utcDate(offsetDays) {
  const day = new Date();
  day.setUTCDate(day.getUTCDate() + offsetDays);
  return day.toISOString().slice(0, 10);
}

const same = (a, b) => Math.abs(Number(a) - Number(b)) < 1e-9;

async function signIn(page, origin, role) {
  await page.goto(`${origin}/`);
  await page.waitForSelector(`button.demo-token[data-label="${role}"]`, { timeout: 30000 });
  await page.click(`button.demo-token[data-label="${role}"]`);
  await page.waitForSelector('#tile-body [data-stat="score"]', { timeout: 30000 });
  await page.waitForSelector('.trend-chart .point', { timeout: 30000 });
  await page.waitForSelector('#actions-body tr', { timeout: 30000 });
}

/** The diff table's rows as [action id, delta]. */
function diffRows(page) {
  return page.$$eval('#diff tbody tr[data-action]', (rows) => rows.map((r) => [r.dataset.action, Number(r.dataset.delta)]));
}

/** The audit events shown under each changed action, as {action id: [event ids]}. */
function whoRows(page) {
  return page.$$eval('#diff tbody tr.who-changed', (rows) => Object.fromEntries(rows.map((r) =>
    [r.dataset.for, [...r.querySelectorAll('li[data-event]')].map((li) => li.dataset.event)])));
}

/** Checks the diff shown against scoreDiff(from, to): the same changes, regressions first. */
async function checkDiff(page, origin, token, tenantId, from, to) {
  await page.waitForFunction(([f, t]) => {
    const title = document.querySelector('#diff h3');
    return title && title.textContent.includes(f) && title.textContent.includes(t);
  }, [longDate(from), longDate(to)], { timeout: 15000 });
  const expected = (await api(origin, token, DIFF_QUERY, { id: tenantId, from, to })).tenant.scoreDiff;
  const shown = await diffRows(page);
  const want = [...expected.changes.filter((c) => c.scoreDelta < 0), ...expected.changes.filter((c) => !(c.scoreDelta < 0))]
    .map((c) => [c.action.id, c.scoreDelta]);
  check(JSON.stringify(shown) === JSON.stringify(want), `diff ${from}..${to}: shown ${JSON.stringify(shown)}, scoreDiff ${JSON.stringify(want)}`);
  const who = await whoRows(page);
  const wantWho = Object.fromEntries(expected.changes.filter((c) => c.directoryChanges.length)
    .map((c) => [c.action.id, c.directoryChanges.map((d) => d.id)]));
  check(JSON.stringify(Object.entries(who).sort()) === JSON.stringify(Object.entries(wantWho).sort()),
    `who changed it ${from}..${to}: shown ${JSON.stringify(who)}, scoreDiff ${JSON.stringify(wantWho)}`);
  const summary = await page.$eval('#diff .diff-summary', (p) => [p.dataset.scoreDelta, p.dataset.percentageDelta]);
  check(same(summary[0], expected.scoreDelta) && same(summary[1], expected.percentageDelta), `diff totals ${summary} vs ${JSON.stringify(expected)}`);
  return Object.keys(who).length;
}

function longDate(date) {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

try {
  server = await startDemoServer(secret, `dashboard-${label}`, ['--public-url', 'https://score.example.com']);
  const { origin } = server;
  const tokens = await (await fetch(`${origin}/demo/tokens`)).json();
  const tokenOf = (name) => checkerToken(secret, tokens.find((t) => t.label === name).token);
  browser = await launchBrowser();
  const shots = screenshotDir();
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  const { foreign, errors } = watch(page, origin);
  const reader = tokenOf('SecurityReader');
  const to = utcDate(0);
  const from = utcDate(-89);
  const ahead = utcDate(60);
  const expected = (await api(origin, reader, TENANT_QUERY, { id: 'contoso', from, to, ahead })).tenant;

  await step('the page signs in with a demo token and shows the four parts', async () => {
    await signIn(page, origin, 'SecurityReader');
    check(await page.isVisible('#tile') && await page.isVisible('#comparison') && await page.isVisible('#trend') && await page.isVisible('#actions'), 'a part is missing');
  });

  await step('the score tile shows the API\'s score', async () => {
    const stats = await page.$$eval('#tile-body [data-stat]', (nodes) => Object.fromEntries(nodes.map((n) => [n.dataset.stat, n.dataset.value])));
    for (const field of ['score', 'maxScore', 'percentage', 'coverage', 'plannedScore']) {
      check(same(stats[field], expected.score[field]), `${field}: shown ${stats[field]}, API ${expected.score[field]}`);
    }
    check(expected.goal == null ? stats.goal === '' : same(stats.goal, expected.goal), `goal ${stats.goal} vs ${expected.goal}`);
    const text = await page.textContent('#tile-body .big');
    check(text === String(Math.round(expected.score.score * 10) / 10), `rounded score ${text} vs ${expected.score.score}`);
  });

  await step('the framework table under the tile shows the API\'s CIS, SCuBA and NIST scores', async () => {
    const rows = await page.$$eval('#tile-body table.frameworks tbody tr', (nodes) => nodes.map((n) => ({
      framework: n.dataset.framework,
      percentage: n.querySelector('td[data-value]').dataset.value,
      completed: n.querySelector('td[data-completed]').dataset.completed,
      total: n.querySelector('td[data-completed]').dataset.total,
    })));
    const frameworks = expected.score.frameworks;
    const names = ['CIS Microsoft 365 Foundations Benchmark v7.0.0', 'CISA SCuBA Microsoft Entra ID', 'NIST SP 800-53 Rev. 5'];
    check(names.every((name) => frameworks.some((f) => f.framework === name)), `API frameworks ${JSON.stringify(frameworks)}`);
    check(rows.length === frameworks.length, `${rows.length} rows for ${frameworks.length} frameworks`);
    for (const f of frameworks) {
      const row = rows.find((r) => r.framework === f.framework);
      check(row && same(row.percentage, f.percentage) && Number(row.completed) === f.actionsCompleted && Number(row.total) === f.actionsTotal,
        `${f.framework}: shown ${JSON.stringify(row)}, API ${JSON.stringify(f)}`);
    }
  });

  await step('the tile says what a missing licence would add, as the API says', async () => {
    const shown = await page.$$eval('#tile-body ul.license-gaps li', (items) => items.map((li) => [li.dataset.license, li.dataset.value, li.textContent]));
    const gaps = expected.score.licenseGaps;
    check(gaps.some((g) => g.license === 'ENTRA_P2'), `the demo's contoso lacks Entra ID P2: ${JSON.stringify(gaps)}`);
    check(shown.length === gaps.length, `${shown.length} lines for ${gaps.length} gaps`);
    for (const gap of gaps) {
      const line = shown.find(([license]) => license === gap.license);
      check(line && same(line[1], gap.maxScore), `${gap.license}: shown ${JSON.stringify(line)}, API ${JSON.stringify(gap)}`);
    }
    const p2 = shown.find(([license]) => license === 'ENTRA_P2');
    check(p2[2].startsWith('Microsoft Entra ID P2 would add'), `in words: ${p2[2]}`);
  });

  await step('the comparison bars show the API\'s averages, and say when one is hidden', async () => {
    for (const group of expected.comparison) {
      const value = await page.$eval(`.bar-row[data-basis="${group.basis}"] .bar-value`, (n) => [n.dataset.value, n.textContent]);
      if (group.averagePercentage == null) check(value[0] === '' && value[1].startsWith('Hidden'), `${group.basis}: ${value}`);
      else check(same(value[0], group.averagePercentage), `${group.basis}: shown ${value[0]}, API ${group.averagePercentage}`);
    }
    const own = await page.$eval('.bar-row.own .bar-value', (n) => n.dataset.value);
    check(same(own, expected.score.percentage), `own bar ${own}`);
  });

  await step('the trend shows every stored day of the range and marks the alert days', async () => {
    const dates = await page.$$eval('.trend-chart .point', (points) => points.map((p) => p.dataset.date));
    check(JSON.stringify(dates) === JSON.stringify(expected.scoreHistory.map((d) => d.date)), `points ${dates.length} vs ${expected.scoreHistory.length}`);
    const marked = await page.$$eval('.trend-chart .point.alert', (points) => points.map((p) => p.dataset.date));
    const alertDays = [...new Set(expected.alerts.edges.map((e) => e.node.date))].filter((d) => dates.includes(d)).sort();
    check(JSON.stringify(marked.sort()) === JSON.stringify(alertDays), `alert marks ${marked} vs ${alertDays}`);
    check(alertDays.length > 0, 'the demo raises alerts for contoso');
    check(expected.goal == null || (await page.$$('.trend-chart .goal-line')).length === 1, 'the goal line is drawn');
  });

  await step('the zones lie behind the trend and the forecast runs ahead of it, as the API says', async () => {
    const bands = await page.$$eval('.trend-chart .zone', (rects) => rects.map((r) => [r.dataset.zone, Number(r.dataset.from), Number(r.dataset.to)]));
    const { good, fair } = expected.zones;
    check(JSON.stringify(bands) === JSON.stringify([['good', good, 100], ['fair', fair, good], ['poor', 0, fair]]), `zones ${JSON.stringify(bands)}`);
    const drawn = await page.$$eval('.trend-chart .forecast-point', (points) => points.map((p) => [p.dataset.date, p.dataset.value]));
    check(drawn.length === expected.forecast.length && drawn.length > 0, `${drawn.length} forecast points, API ${expected.forecast.length}`);
    expected.forecast.forEach((p, i) => check(drawn[i][0] === p.date && same(drawn[i][1], p.percentage), `forecast ${JSON.stringify(drawn[i])} vs ${JSON.stringify(p)}`));
    const climbs = expected.forecast[expected.forecast.length - 1].percentage > expected.score.percentage;
    check(climbs, 'the demo\'s plans make the forecast climb');
  });

  await step('the metrics panel shows the API\'s trends per week, then per month', async () => {
    const shown = () => page.$$eval('.metrics-table tbody tr', (trs) => trs.map((tr) => [tr.dataset.from, tr.dataset.achieved,
      tr.dataset.regressed, tr.dataset.regressions, tr.dataset.riskAccepted, tr.dataset.percentage]));
    const compare = (rows, periods) => {
      check(rows.length === periods.length && rows.length > 0, `${rows.length} rows for ${periods.length} periods`);
      periods.forEach((p, i) => {
        const row = rows[i];
        check(row[0] === p.from && same(row[1], p.pointsAchieved) && same(row[2], p.pointsRegressed) && Number(row[3]) === p.regressedActions
          && same(row[4], p.riskAcceptedPoints) && (p.percentageAtEnd == null ? row[5] === '' : same(row[5], p.percentageAtEnd)),
        `period ${JSON.stringify(row)} vs ${JSON.stringify(p)}`);
      });
    };
    compare(await shown(), expected.weeks);
    await page.selectOption('#period', 'MONTH');
    await page.waitForFunction((n) => document.querySelectorAll('.metrics-table tbody tr').length === n, expected.months.length);
    compare(await shown(), expected.months);
    await page.selectOption('#period', 'WEEK');
    await page.waitForFunction((n) => document.querySelectorAll('.metrics-table tbody tr').length === n, expected.weeks.length);
  });

  await step('each action shows its plan, overdue ones marked in words, and the plan filter keeps the overdue', async () => {
    const shown = await page.$$eval('#actions-body tr', (trs) => trs.map((tr) => [tr.dataset.action, tr.dataset.plan,
      tr.querySelector('td.plan .owner')?.textContent ?? null, tr.querySelector('td.plan .overdue-mark') != null]));
    for (const a of expected.improvementActions) {
      const row = shown.find((r) => r[0] === a.action.id);
      check(row[1] === (a.plan?.status ?? 'NONE') && row[2] === (a.plan?.assignedTo ?? null) && row[3] === (a.plan?.status === 'OVERDUE'),
        `${a.action.id}: shown ${JSON.stringify(row)}, API ${JSON.stringify(a.plan)}`);
    }
    const overdue = expected.improvementActions.filter((a) => a.plan?.status === 'OVERDUE').length;
    check(overdue > 0, 'the demo has an overdue plan');
    await page.selectOption('#filter-plan', 'OVERDUE');
    await page.waitForFunction((n) => document.querySelectorAll('#actions-body tr').length === n, overdue);
    check((await page.$$eval('#actions-body tr', (trs) => trs.every((tr) => tr.dataset.plan === 'OVERDUE'))), 'only overdue plans');
    await page.selectOption('#filter-plan', '');
    await page.waitForFunction((n) => document.querySelectorAll('#actions-body tr').length === n, expected.improvementActions.length);
  });

  await step('the actions are ranked as the API ranks them, with its values', async () => {
    const rows = await page.$$eval('#actions-body tr', (trs) => trs.map((tr) => [tr.dataset.action, tr.dataset.status]));
    const want = expected.improvementActions.map((a) => [a.action.id, a.status]);
    check(JSON.stringify(rows) === JSON.stringify(want), `actions ${JSON.stringify(rows)} vs ${JSON.stringify(want)}`);
    await page.selectOption('#filter-status', 'COMPLETED');
    await page.waitForFunction(() => [...document.querySelectorAll('#actions-body tr')].every((tr) => tr.dataset.status === 'COMPLETED'));
    const completed = await page.$$eval('#actions-body tr', (trs) => trs.length);
    check(completed === want.filter((a) => a[1] === 'COMPLETED').length, `completed filter shows ${completed}`);
    await page.selectOption('#filter-status', '');
    await page.waitForFunction((n) => document.querySelectorAll('#actions-body tr').length === n, want.length);
    const unlicensed = await page.$$eval('#actions-body tr[data-status="NOT_LICENSED"]', (trs) => trs.map((tr) => tr.children[3].textContent));
    check(unlicensed.length === want.filter((a) => a[1] === 'NOT_LICENSED').length && unlicensed.length > 0, `NOT_LICENSED rows ${unlicensed.length}`);
    check(unlicensed.every((text) => text === 'Not licensed: needs Microsoft Entra ID P2'), `in words: ${JSON.stringify(unlicensed)}`);
  });

  await step('a SecurityReader sees no state controls', async () => {
    check((await page.$$('button.set-state')).length === 0, 'a reader has Set state buttons');
    check((await page.$$('button.set-plan')).length === 0, 'a reader has Plan buttons');
  });

  await step('clicking a day shows scoreDiff against the previous stored day, regressions first, with who changed it', async () => {
    const days = expected.scoreHistory.map((d) => d.date);
    // The latest day whose diff has a regression the audit log explains, and a gain.
    let target = 0;
    for (let i = days.length - 1; i > 0; i--) {
      const diff = (await api(origin, reader, DIFF_QUERY, { id: 'contoso', from: days[i - 1], to: days[i] })).tenant.scoreDiff;
      const explained = diff.changes.some((c) => c.scoreDelta < 0 && c.directoryChanges.length > 0);
      if (explained && diff.changes.some((c) => c.scoreDelta >= 0)) { target = i; break; }
    }
    check(target > 0, 'the demo has a regression its audit log explains');
    await page.click(`.trend-chart .point[data-date="${days[target]}"]`);
    const explained = await checkDiff(page, origin, reader, 'contoso', days[target - 1], days[target]);
    check(explained > 0, 'no "who changed it" row was shown');
    await (await page.$('#diff')).screenshot({ path: join(shots, `dashboard-diff-${label}.png`) });
    await page.screenshot({ path: join(shots, `dashboard-${label}.png`), fullPage: true });
  });

  await step('the keyboard moves along the days and Enter picks one; Shift-click compares two days', async () => {
    const days = expected.scoreHistory.map((d) => d.date);
    await page.focus(`.trend-chart .point[data-date="${days[days.length - 1]}"]`);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    await checkDiff(page, origin, reader, 'contoso', days[days.length - 4], days[days.length - 3]);
    await page.click(`.trend-chart .point[data-date="${days[10]}"]`, { modifiers: ['Shift'] });
    await checkDiff(page, origin, reader, 'contoso', days[10], days[days.length - 3]);
  });

  await step('at a phone\'s width the page does not overflow', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    check(scroll <= inner, `page is ${scroll}px wide in a ${inner}px window`);
    await page.screenshot({ path: join(shots, `dashboard-phone-${label}.png`) });
    await page.setViewportSize({ width: 1366, height: 768 });
  });

  await step('a partner picks among its tenants', async () => {
    await page.click('#sign-out');
    await signIn(page, origin, 'Partner (GlobalAdmin)');
    const options = await page.$$eval('#tenant-picker option', (os) => os.map((o) => o.value));
    check(options.length === 4 && options.includes('woodgrove-bank'), `partner tenants ${options}`);
    await page.selectOption('#tenant-picker', 'woodgrove-bank');
    const woodgrove = (await api(origin, tokenOf('Partner (GlobalAdmin)'), TENANT_QUERY, { id: 'woodgrove-bank', from, to, ahead })).tenant;
    await page.waitForFunction((name) => document.querySelector('#tenant-name').textContent === name, woodgrove.name);
    await page.waitForFunction((v) => Math.abs(Number(document.querySelector('#tile-body [data-stat="score"]').dataset.value) - v) < 1e-9, woodgrove.score.score);
  });

  await step('the estate shows the API\'s rollup per action, and an action leads to the tenants failing it', async () => {
    const partner = tokenOf('Partner (GlobalAdmin)');
    await page.waitForSelector('#estate-body tr', { timeout: 30000 });
    const rollup = (await api(origin, partner, ESTATE_QUERY)).portfolio;
    const summary = await page.$eval('#estate-summary', (p) => Number(p.dataset.tenants));
    check(summary === rollup.tenantCount, `estate of ${summary} tenants, the API says ${rollup.tenantCount}`);
    const shown = await page.$$eval('#estate-body tr', (rows) => rows.map((r) => ({
      id: r.dataset.action,
      atStake: Number(r.dataset.atStake),
      statuses: [...r.querySelectorAll('.status-bar rect')].map((s) => [s.dataset.status, Number(s.dataset.count)]),
    })));
    const want = rollup.actions.map((a) => ({
      id: a.action.id,
      atStake: a.pointsAtStake,
      statuses: a.statuses.map((s) => [s.status, s.tenantCount]),
    }));
    check(JSON.stringify(shown.map((r) => r.id)) === JSON.stringify(want.map((r) => r.id)), 'the actions in the API\'s order');
    for (const [i, row] of shown.entries()) {
      check(same(row.atStake, want[i].atStake), `${row.id}: ${row.atStake} at stake, the API says ${want[i].atStake}`);
      check(JSON.stringify(row.statuses) === JSON.stringify(want[i].statuses), `${row.id}: ${JSON.stringify(row.statuses)}`);
    }
    const failingAction = rollup.actions.find((a) => a.statuses.some((s) => ['NOT_COMPLETED', 'PARTIAL'].includes(s.status)));
    check(failingAction, 'some action fails somewhere in the demo');
    await page.click(`#estate-body tr[data-action="${failingAction.action.id}"] button`);
    await page.waitForSelector(`#estate-failing h3[data-action="${failingAction.action.id}"]`, { timeout: 15000 });
    const failing = (await api(origin, partner, FAILING_QUERY, { id: failingAction.action.id })).tenants.edges.map((e) => e.node);
    const listed = await page.$$eval('#estate-failing li', (items) => items.map((li) => li.dataset.tenant));
    check(JSON.stringify(listed) === JSON.stringify(failing.map((t) => t.id)), `failing tenants ${listed}, the API says ${failing.map((t) => t.id)}`);
    await page.click(`#estate-failing li[data-tenant="${failing[0].id}"] a`);
    await page.waitForFunction((name) => document.querySelector('#tenant-name').textContent === name, failing[0].name);
    const scuba = 'CISA SCuBA Microsoft Entra ID';
    await page.selectOption('#estate-framework', scuba);
    const mapped = (await api(origin, partner, ESTATE_QUERY, { fw: scuba })).portfolio.actions.map((a) => a.action.id);
    await page.waitForFunction((ids) => {
      const rows = [...document.querySelectorAll('#estate-body tr')].map((r) => r.dataset.action);
      return JSON.stringify(rows) === JSON.stringify(ids);
    }, mapped, { timeout: 15000 });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    check(scroll <= inner, `with the estate the page is ${scroll}px wide in a ${inner}px window`);
    await page.screenshot({ path: join(shots, `dashboard-estate-phone-${label}.png`), fullPage: false });
    await page.setViewportSize({ width: 1366, height: 768 });
  });

  await step('a SecurityAdmin setting a state moves the tile within seconds, live', async () => {
    await page.click('#sign-out');
    await signIn(page, origin, 'SecurityAdmin');
    await page.waitForSelector('#live[data-live="true"]', { timeout: 15000 });
    const admin = tokenOf('SecurityAdmin');
    const before = (await api(origin, admin, TENANT_QUERY, { id: 'contoso', from, to, ahead })).tenant;
    const target = before.improvementActions.find((a) => a.potentialIncrease > 0 && a.status !== 'IGNORED');
    check(target, 'an action with points left');
    const shownBefore = await page.$eval('#tile-body [data-stat="maxScore"]', (n) => n.dataset.value);
    await page.click(`#actions-body tr[data-action="${target.action.id}"] button.set-state`);
    await page.selectOption('#state-select', 'IGNORED');
    await page.fill('#state-comment', 'Set from the browser check');
    await page.click('#state-save');
    await page.waitForFunction((old) => document.querySelector('#tile-body [data-stat="maxScore"]').dataset.value !== old, shownBefore, { timeout: 20000 });
    const after = (await api(origin, admin, TENANT_QUERY, { id: 'contoso', from, to, ahead })).tenant;
    const shownAfter = await page.$eval('#tile-body [data-stat="maxScore"]', (n) => n.dataset.value);
    check(same(shownAfter, after.score.maxScore) && !same(after.score.maxScore, before.score.maxScore), `tile ${shownBefore} → ${shownAfter}, API ${before.score.maxScore} → ${after.score.maxScore}`);
    await page.waitForFunction((id) => document.querySelector(`#actions-body tr[data-action="${id}"]`)?.dataset.state === 'IGNORED', target.action.id, { timeout: 10000 });

    // The admin plans an action: owner, a due date already past, tags.
    const unplanned = before.improvementActions.find((a) => !a.plan && a.potentialIncrease > 0 && a.action.id !== target.action.id);
    check(unplanned, 'an action with points left and no plan');
    await page.click(`#actions-body tr[data-action="${unplanned.action.id}"] button.set-plan`);
    await page.fill('#plan-owner', 'browser@contoso.example');
    await page.fill('#plan-due', utcDate(-1));
    await page.fill('#plan-tags', 'browser, q1');
    await page.click('#plan-save');
    await page.waitForFunction((id) => document.querySelector(`#actions-body tr[data-action="${id}"]`)?.dataset.plan === 'OVERDUE', unplanned.action.id, { timeout: 10000 });
    const planned = (await api(origin, admin, TENANT_QUERY, { id: 'contoso', from, to, ahead })).tenant.improvementActions
      .find((a) => a.action.id === unplanned.action.id).plan;
    check(planned && planned.assignedTo === 'browser@contoso.example' && planned.dueDate === utcDate(-1)
      && JSON.stringify(planned.tags) === JSON.stringify(['browser', 'q1']) && planned.status === 'OVERDUE', `API plan ${JSON.stringify(planned)}`);
    await page.screenshot({ path: join(shots, `dashboard-admin-${label}.png`), fullPage: true });
  });

  await step('a PlatformAdmin sets the partner application, pastes customers, and sees each consent link as the API says', async () => {
    await page.click('#sign-out');
    await signIn(page, origin, 'PlatformAdmin');
    await page.waitForSelector('#onboarding:not([hidden])', { timeout: 15000 });
    await page.waitForFunction(() => document.querySelector('#partner-app')?.textContent.includes('No partner application'));
    const client = '3b9d6e2f-1a4c-4f8e-b7d5-6c0e9a1f2b38';
    await page.fill('#partner-client', client);
    await page.fill('#partner-secret', 'browser-check-secret');
    await page.click('#partner-submit');
    await page.waitForFunction((id) => document.querySelector('#partner-app').dataset.clientId === id, client, { timeout: 15000 });
    await page.fill('#onboard-list', [
      'tenant id,name,directory id',
      'fabrikam-bc, Fabrikam, 0b5d4c3e-2a1f-4e6d-9c8b-7a6f5e4d3c2b',
      'northwind-bc,"Northwind, Inc",6e5f4d3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f',
      'just one field',
      'litware-bc,,litware.onmicrosoft.com',
    ].join('\n'));
    await page.click('#onboard-submit');
    await page.waitForSelector('#onboard-results li[data-connected="2"]', { timeout: 15000 });
    const refused = await page.textContent('#onboard-results li[data-tenant="litware-bc"]');
    check(refused.includes('directoryId must be a GUID'), `refused line: ${refused}`);
    check((await page.$$('#onboard-results li[data-problem]')).length === 1, 'the one-field line is reported');
    const ids = ['fabrikam-bc', 'northwind-bc'];
    await page.waitForFunction((want) => want.every((id) => document.querySelector(`#onboard-body tr[data-tenant="${id}"]`)), ids);
    const platform = tokenOf('PlatformAdmin');
    for (const id of ids) {
      const answer = (await api(origin, platform, `query($id: ID!) { tenant(id: $id) { name graphConnection { status consentUrl usesPartnerApplication } } }`, { id })).tenant;
      const row = await page.$eval(`#onboard-body tr[data-tenant="${id}"]`, (tr) => [tr.dataset.status, tr.dataset.consentUrl, tr.querySelector('input').value]);
      check(answer.graphConnection.usesPartnerApplication && row[0] === answer.graphConnection.status, `${id}: status ${row[0]} vs ${JSON.stringify(answer)}`);
      const link = new URL(answer.graphConnection.consentUrl);
      check(row[1] === answer.graphConnection.consentUrl && row[2] === row[1]
        && link.searchParams.get('redirect_uri') === 'https://score.example.com/connect/consented'
        && link.searchParams.get('client_id') === client, `${id}: link ${row[1]} vs ${answer.graphConnection.consentUrl}`);
    }
    const named = (await api(origin, platform, '{ tenant(id: "northwind-bc") { name } }')).tenant.name;
    check(named === 'Northwind, Inc', `quoted name ${named}`);
    check((await api(origin, platform, '{ tenant(id: "litware-bc") { id } }')).tenant === null, 'the refused line created nothing');
    await page.screenshot({ path: join(shots, `dashboard-onboarding-${label}.png`), fullPage: true });
  });

  await step('nothing left the origin and the page reported no error', async () => {
    check(foreign.length === 0, `requests left the origin: ${foreign.join(', ')}`);
    check(errors.length === 0, `the page reported errors: ${errors.join(' | ')}`);
  });

  await step('a throttled dashboard says so and waits Retry-After before asking again', async () => {
    // A bucket that holds the viewer query but not the tenant query after it.
    const small = await startDemoServer(secret, `dashboard-throttled-${label}`, ['--cost-bucket', '2500', '--cost-restore', '100']);
    try {
      const throttledPage = await browser.newPage();
      // Asks and answers are timed by the page's own clock, where the dashboard's wait runs:
      // timing them in this process adds the delay of each event's trip here.
      await throttledPage.addInitScript(() => {
        window.tenantAsks = [];
        window.tenantAnswers = [];
        const fetchAsTheDashboardDoes = window.fetch.bind(window);
        window.fetch = async (resource, init) => {
          const asking = String(resource).includes('operationName=DashboardTenant');
          if (asking) window.tenantAsks.push(performance.now());
          const response = await fetchAsTheDashboardDoes(resource, init);
          if (asking) {
            window.tenantAnswers.push({
              status: response.status, retryAfter: Number(response.headers.get('retry-after')), at: performance.now(),
            });
          }
          return response;
        };
      });
      await throttledPage.goto(`${small.origin}/`);
      await throttledPage.waitForSelector('button.demo-token[data-label="SecurityReader"]', { timeout: 30000 });
      await throttledPage.click('button.demo-token[data-label="SecurityReader"]');
      await throttledPage.waitForFunction(() => document.querySelector('#status')?.textContent.includes('throttled'), null, { timeout: 15000 });
      const said = await throttledPage.textContent('#status');
      check(/trying again in \d+ s/.test(said), `status line: ${said}`);
      await throttledPage.waitForSelector('#tile-body [data-stat="score"]', { timeout: 30000 });
      const [tenantAsks, tenantAnswers] = await throttledPage.evaluate(() => [window.tenantAsks, window.tenantAnswers]);
      const refused = tenantAnswers.find((a) => a.status === 429);
      check(refused && refused.retryAfter >= 1, `a 429 with Retry-After: ${JSON.stringify(tenantAnswers)}`);
      const next = tenantAsks.find((at) => at > refused.at);
      check(next !== undefined && next - refused.at >= refused.retryAfter * 1000 - 5,
        `asked again ${Math.round(next - refused.at)} ms after a Retry-After of ${refused.retryAfter} s`);
      await throttledPage.close();
    } finally {
      small.stop();
    }
  });
  await finish();
} catch (error) {
  await finish(error);
}
