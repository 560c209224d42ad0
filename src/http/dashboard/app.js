// The dashboard: asks for a token once, then shows, for a caller reaching several tenants, the
// estate per action, and one tenant's score tile, comparison graph, trend graph with "why did
// it change", and ranked improvement actions, kept live by the scoreUpdated subscription
// (polling when no WebSocket can be had).

import { Api, ApiError } from './api.js';
import { comparisonBars, periodBars, trendChart } from './charts.js';
import { Onboarding } from './onboarding.js';
import { addDays, el, label, longDate, longDateTime, percent, points, signed, svg, today } from './format.js';

const TOKEN_KEY = 'securescore.dashboard.token';
const POLL_MS = 30000;
const FORECAST_DAYS = 60;
const CATEGORIES = ['IDENTITY', 'DATA', 'DEVICE', 'APPS', 'INFRASTRUCTURE'];
const STATUSES = ['COMPLETED', 'PARTIAL', 'NOT_COMPLETED', 'NOT_APPLICABLE', 'NO_DATA', 'NOT_SCORED',
  'DEPRECATED', 'IGNORED', 'THIRD_PARTY', 'RISK_ACCEPTED', 'NOT_LICENSED'];
const LICENSES = {
  ENTRA_P1: 'Microsoft Entra ID P1',
  ENTRA_P2: 'Microsoft Entra ID P2',
  ENTRA_ID_GOVERNANCE: 'Microsoft Entra ID Governance',
};
const STATES = ['DEFAULT', 'IGNORED', 'THIRD_PARTY', 'RISK_ACCEPTED', 'PLANNED'];
const EDITOR_ROLES = ['GLOBAL_ADMIN', 'SECURITY_ADMIN'];

const $ = (id) => document.getElementById(id);

const state = {
  api: null,
  viewer: null,
  tenantId: null,
  tenant: null,
  range: 90,
  picked: [],
  compare: false,
  category: '',
  status: '',
  planFilter: '',
  period: 'WEEK',
  actions: [],
  unsubscribe: null,
  pollTimer: null,
  refreshTimer: null,
  editing: null,
  estate: null,
  framework: '',
  onboarding: null,
};

/** Shows a message in the status line (read out by screen readers). */
function say(message, kind = 'info') {
  const line = $('status');
  line.textContent = message;
  line.dataset.kind = kind;
}

function fail(error) {
  if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
    signOut(`The token was refused: ${error.message}`);
    return;
  }
  const code = error instanceof ApiError ? ` (${error.code})` : '';
  say(`${error.message}${code}`, 'error');
}

// ---------------------------------------------------------------- token

async function showTokenPanel(message) {
  $('dashboard').hidden = true;
  $('estate').hidden = true;
  $('estate-failing').replaceChildren();
  state.estate = null;
  $('session').hidden = true;
  $('token-panel').hidden = false;
  $('token-error').textContent = message ?? '';
  const list = $('demo-tokens');
  list.replaceChildren();
  try {
    const response = await fetch('/demo/tokens', { headers: { Accept: 'application/json' } });
    if (response.ok) {
      const tokens = (await response.json()).filter((t) => t.role !== 'Collector');
      $('demo-hint').hidden = tokens.length === 0;
      for (const token of tokens) {
        const reach = token.tenants.length ? token.tenants.join(', ') : 'every tenant';
        list.append(el('li', {}, el('button', {
          type: 'button', class: 'demo-token', 'data-role': token.role, 'data-label': token.label,
          onclick: () => useToken(token.token),
        }, el('strong', {}, token.label), el('span', {}, ` ${token.subject} · ${reach}`))));
      }
    } else {
      $('demo-hint').hidden = true;
    }
  } catch {
    $('demo-hint').hidden = true;
  }
  $('token-input').focus();
}

function signOut(message) {
  stopLive();
  state.api?.close();
  state.api = null;
  sessionStorage.removeItem(TOKEN_KEY);
  showTokenPanel(message);
}

async function useToken(token) {
  const api = new Api(token.trim());
  api.onThrottled = (message, seconds) => say(`Slowing down: ${message} (trying again in ${seconds} s)`, 'error');
  try {
    const data = await api.run('DashboardViewer');
    state.api = api;
    state.viewer = { ...data.viewer, tenants: data.tenants.edges.map((e) => e.node) };
    sessionStorage.setItem(TOKEN_KEY, api.token);
  } catch (error) {
    const why = error instanceof ApiError && error.code === 'FORBIDDEN'
      ? 'This token may not read scores (a Collector token?). Pick a reader or an admin.'
      : `The token was refused: ${error.message}`;
    if ($('token-panel').hidden) showTokenPanel(why);
    else $('token-error').textContent = why;
    return;
  }
  $('token-panel').hidden = true;
  $('session').hidden = false;
  $('who').textContent = `${state.viewer.subject} · ${state.viewer.roles.map(label).join(', ')}`;
  const picker = $('tenant-picker');
  picker.replaceChildren(...state.viewer.tenants.map((t) => el('option', { value: t.id }, t.name)));
  $('tenant-field').hidden = state.viewer.tenants.length < 2;
  const wanted = new URLSearchParams(location.hash.slice(1)).get('tenant');
  const first = state.viewer.tenants.find((t) => t.id === wanted)
    ?? state.viewer.tenants.find((t) => state.viewer.tenantIds.includes(t.id))
    ?? state.viewer.tenants[0];
  if (!first) {
    say('This token reaches no tenant.', 'error');
    return;
  }
  picker.value = first.id;
  $('estate').hidden = state.viewer.tenants.length < 2;
  const onboards = state.viewer.roles.includes('PLATFORM_ADMIN');
  $('onboarding').hidden = !onboards;
  state.onboarding = onboards ? new Onboarding(api, fail) : null;
  state.onboarding?.load();
  await Promise.all([openTenant(first.id), state.viewer.tenants.length < 2 ? null : loadEstate()]);
}

// ---------------------------------------------------------------- the estate

/** Tenants with an action NOT_COMPLETED or PARTIAL, as the failing list counts them. */
const FAILING = ['NOT_COMPLETED', 'PARTIAL'];

async function loadEstate() {
  try {
    const data = await state.api.run('DashboardEstate', { framework: state.framework || null });
    const picker = $('estate-framework');
    if (picker.options.length === 0) fillSelect(picker, data.frameworks, 'All frameworks', (f) => f);
    state.estate = data.portfolio;
    renderEstate();
  } catch (error) {
    fail(error);
  }
}

function renderEstate() {
  const p = state.estate;
  const zones = Object.fromEntries(p.zones.map((z) => [z.zone, z.tenantCount]));
  $('estate-summary').textContent = `${p.tenantCount} tenants, ${p.scoredTenantCount} scored, `
    + `average ${percent(p.averagePercentage)}; ${zones.GOOD ?? 0} good, ${zones.FAIR ?? 0} fair, `
    + `${zones.POOR ?? 0} poor; ${p.overduePlanCount} overdue plan${p.overduePlanCount === 1 ? '' : 's'}`;
  $('estate-summary').dataset.tenants = p.tenantCount;
  const highest = Math.max(1, ...p.distribution.map((b) => b.tenantCount));
  $('estate-distribution').replaceChildren(svg('svg', {
    class: 'distribution', viewBox: '0 0 100 20', preserveAspectRatio: 'none', role: 'img',
    'aria-label': `Tenants per ten points of percentage: ${p.distribution.map((b) => b.tenantCount).join(', ')}`,
  }, ...p.distribution.map((b, i) => {
    const height = (20 * b.tenantCount) / highest;
    return svg('rect', { x: i * 10 + 0.5, y: 20 - height, width: 9, height, 'data-count': b.tenantCount },
      svg('title', {}, `${b.from}–${b.to} %: ${b.tenantCount}`));
  })));
  $('estate-body').replaceChildren(...p.actions.map((row) => {
    const total = row.statuses.reduce((sum, s) => sum + s.tenantCount, 0) || 1;
    const failing = row.statuses.filter((s) => FAILING.includes(s.status)).reduce((sum, s) => sum + s.tenantCount, 0);
    const words = row.statuses.map((s) => `${label(s.status)} ${s.tenantCount}`).join(', ');
    return el('tr', { 'data-action': row.action.id, 'data-failing': failing, 'data-at-stake': row.pointsAtStake },
      el('th', { scope: 'row' }, failing
        ? el('button', { type: 'button', class: 'link-button', onclick: () => showFailing(row.action) }, row.action.title)
        : row.action.title),
      el('td', {}, statusBar(row.statuses, total, words)),
      el('td', { class: 'num' }, String(failing)),
      el('td', { class: 'num', 'data-value': row.pointsAtStake }, points(row.pointsAtStake)));
  }));
}

/** A bar of the tenants in each status, as wide as the share of each. */
function statusBar(statuses, total, words) {
  let x = 0;
  return svg('svg', { class: 'status-bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', role: 'img', 'aria-label': words },
    svg('title', {}, words),
    ...statuses.map((s) => {
      const width = (100 * s.tenantCount) / total;
      const part = svg('rect', {
        x, y: 0, width, height: 10, class: `status-${s.status}`, 'data-status': s.status, 'data-count': s.tenantCount,
      });
      x += width;
      return part;
    }));
}

async function showFailing(action) {
  try {
    const data = await state.api.run('DashboardFailing', { actionId: action.id });
    const tenants = data.tenants.edges.map((e) => e.node);
    $('estate-failing').replaceChildren(
      el('h3', { 'data-action': action.id }, `Tenants failing “${action.title}”`),
      el('ul', {}, ...tenants.map((t) => el('li', { 'data-tenant': t.id },
        el('a', {
          href: `#tenant=${encodeURIComponent(t.id)}`,
          onclick: (event) => { event.preventDefault(); $('tenant-picker').value = t.id; openTenant(t.id); },
        }, t.name), ` (${percent(t.score?.percentage)})`))));
  } catch (error) {
    fail(error);
  }
}

// ---------------------------------------------------------------- loading

function canEdit() {
  return state.viewer.roles.some((r) => EDITOR_ROLES.includes(r))
    && state.viewer.tenantIds.includes(state.tenantId);
}

async function openTenant(tenantId) {
  stopLive();
  state.tenantId = tenantId;
  state.picked = [];
  history.replaceState(null, '', `#tenant=${encodeURIComponent(tenantId)}`);
  $('dashboard').hidden = false;
  $('diff').replaceChildren(el('p', { class: 'hint' }, 'Pick a day on the graph to see what changed against the day before.'));
  await Promise.all([loadTenant(), loadActions()]);
  startLive();
}

async function loadTenant() {
  const to = today();
  const from = addDays(to, -(state.range - 1));
  try {
    const data = await state.api.run('DashboardTenant', {
      tenantId: state.tenantId, from, to, forecastTo: addDays(to, FORECAST_DAYS), period: state.period,
    });
    if (!data.tenant) {
      say('This tenant does not exist or is out of the token\'s reach.', 'error');
      return;
    }
    state.tenant = { ...data.tenant, from, to };
    renderTile();
    renderComparison();
    renderTrend();
    renderMetrics();
    say(`Updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    fail(error);
  }
}

/** Reloads the metrics panel alone, when only the period changed. */
async function loadTrends() {
  const { from, to } = state.tenant;
  try {
    const data = await state.api.run('DashboardTrends', { tenantId: state.tenantId, from, to, period: state.period });
    if (!data.tenant || data.tenant.id !== state.tenant.id) return;
    state.tenant = { ...state.tenant, trends: data.tenant.trends };
    renderMetrics();
  } catch (error) {
    fail(error);
  }
}

/** Reads every action of the tenant once; the category, status and plan filters work on them here. */
async function loadActions() {
  try {
    const data = await state.api.run('DashboardActions', { tenantId: state.tenantId });
    state.actions = data.tenant?.improvementActions ?? [];
    renderActions();
  } catch (error) {
    fail(error);
  }
}

/** Reloads the tile, graphs and actions once a burst of events has passed. */
function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    loadTenant();
    loadActions();
  }, 250);
}

// ---------------------------------------------------------------- live updates

async function startLive() {
  const tenantId = state.tenantId;
  const api = state.api;
  const fallBack = (error) => {
    if (state.tenantId !== tenantId || state.api !== api) return;
    state.unsubscribe = null;
    setLive(false, error?.message);
    clearInterval(state.pollTimer);
    state.pollTimer = setInterval(refreshSoon, POLL_MS);
  };
  try {
    state.unsubscribe = await api.subscribe('DashboardScoreUpdated', { tenantId }, () => {
      setLive(true);
      refreshSoon();
    }, fallBack);
    setLive(true);
  } catch (error) {
    fallBack(error);
  }
}

function stopLive() {
  state.unsubscribe?.();
  state.unsubscribe = null;
  clearInterval(state.pollTimer);
  state.pollTimer = null;
}

function setLive(live, why) {
  const badge = $('live');
  badge.dataset.live = live ? 'true' : 'false';
  badge.textContent = live ? '● Live' : '○ Refreshing every 30 s';
  badge.title = live ? 'Score changes arrive as they happen' : `No live connection${why ? `: ${why}` : ''}`;
}

// ---------------------------------------------------------------- score tile

function stat(name, value, text, extra) {
  return el('div', { class: 'stat', 'data-stat': name, 'data-value': value ?? '' },
    el('dt', {}, extra ?? label(name)), el('dd', {}, text));
}

function renderTile() {
  const { tenant } = state;
  const score = tenant.score;
  $('tenant-name').textContent = tenant.name;
  $('tenant-meta').textContent = [tenant.industry, `${tenant.seatCount.toLocaleString('en')} seats`].filter(Boolean).join(' · ');
  const tile = $('tile-body');
  if (!score) {
    tile.replaceChildren(el('p', {}, 'No score yet: no snapshot has been scored for this tenant.'));
    return;
  }
  const status = score.final ? `closed day ${longDate(score.date)}` : `today, live (${longDate(score.date)})`;
  tile.replaceChildren(
    el('p', { class: 'headline' },
      el('span', { class: 'big', 'data-stat': 'score', 'data-value': score.score }, points(score.score)),
      el('span', { class: 'of', 'data-stat': 'maxScore', 'data-value': score.maxScore }, ` / ${points(score.maxScore)} points`)),
    el('p', { class: 'day' }, status),
    el('dl', { class: 'stats' },
      stat('percentage', score.percentage, percent(score.percentage), 'Percentage'),
      stat('coverage', score.coverage, percent(score.coverage), 'Coverage'),
      stat('goal', tenant.goal, tenant.goal == null ? 'none set' : percent(tenant.goal), 'Goal'),
      stat('plannedScore', score.plannedScore, `${points(score.plannedScore)} points`, 'Planned score')),
    licenseGapList(score.licenseGaps),
    frameworkTable(score.frameworks),
  );
}

/** What each licence the tenant lacks would add to what it can earn; nothing when none. */
function licenseGapList(gaps) {
  if (!gaps.length) return null;
  return el('ul', { class: 'license-gaps', 'aria-label': 'Licences that would add points' },
    ...gaps.map((gap) => el('li', { 'data-license': gap.license, 'data-value': gap.maxScore },
      `${LICENSES[gap.license] ?? label(gap.license)} would add ${points(gap.maxScore)} points to what you can earn `
        + `(${gap.actions} ${gap.actions === 1 ? 'action' : 'actions'} read “Not licensed” without it).`)));
}

/** An action's status in words; NOT_LICENSED names the licences the action needs. */
function statusText(row) {
  if (row.status !== 'NOT_LICENSED') return label(row.status);
  const needs = row.action.requiresLicenses.map((l) => LICENSES[l] ?? label(l)).join(' and ');
  return `Not licensed: needs ${needs}`;
}

/** What the day's score means per compliance framework: one row each, with a bar. */
function frameworkTable(frameworks) {
  if (!frameworks.length) return el('p', { class: 'hint' }, 'No action maps to a compliance framework.');
  return el('table', { class: 'frameworks', 'aria-label': 'Score per compliance framework' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, 'Framework'),
      el('th', { scope: 'col' }, 'Score'),
      el('th', { scope: 'col' }, 'Actions done'))),
    el('tbody', {}, ...frameworks.map((f) => el('tr', { 'data-framework': f.framework },
      el('th', { scope: 'row' }, f.framework),
      el('td', { 'data-value': f.percentage },
        el('meter', { class: 'framework-bar', min: 0, max: 100, value: f.percentage }),
        ` ${percent(f.percentage)} (${points(f.score)} / ${points(f.maxScore)})`),
      el('td', { 'data-completed': f.actionsCompleted, 'data-total': f.actionsTotal },
        `${f.actionsCompleted} of ${f.actionsTotal}`)))));
}

// ---------------------------------------------------------------- comparison

function renderComparison() {
  const { tenant } = state;
  const box = $('comparison-body');
  if (!tenant.score) {
    box.replaceChildren(el('p', {}, 'No comparison without a score.'));
    return;
  }
  box.replaceChildren(
    comparisonBars(tenant.name, tenant.score.percentage, tenant.comparison),
    el('p', { class: 'hint' }, `Averages of ${longDate(tenant.score.date)}. An average is hidden when its group is too small to show it without revealing a single tenant's score.`),
  );
}

// ---------------------------------------------------------------- trend and diff

function renderTrend() {
  const { tenant } = state;
  const alertDates = new Set(tenant.alerts.edges.map((e) => e.node.date));
  const chart = trendChart({
    days: tenant.scoreHistory,
    from: tenant.from,
    to: tenant.to,
    goal: tenant.goal,
    alertDates,
    selected: state.picked,
    onPick: pickDay,
    zones: tenant.zones,
    forecast: tenant.forecast,
  });
  $('trend-body').replaceChildren(chart);
  const inRange = tenant.alerts.edges.filter((e) => e.node.date >= tenant.from);
  $('trend-legend').replaceChildren(
    el('span', { class: 'legend-line' }, 'Daily percentage'),
    tenant.goal == null ? null : el('span', { class: 'legend-goal' }, `Goal ${percent(tenant.goal)}`),
    el('span', { class: 'legend-alert' }, `▼ Alert raised (${inRange.length} in range)`),
    tenant.forecast.length ? el('span', { class: 'legend-forecast' }, `Forecast from the plans' due dates (to ${longDate(tenant.forecast[tenant.forecast.length - 1].date)})`) : null,
    el('span', { class: 'legend-zones' }, `Zones: good from ${percent(tenant.zones.good)}, fair from ${percent(tenant.zones.fair)}`),
  );
}

// ---------------------------------------------------------------- metrics and trends

function renderMetrics() {
  const { trends } = state.tenant;
  const rows = trends.map((t) => el('tr', {
    'data-from': t.from, 'data-achieved': t.pointsAchieved, 'data-regressed': t.pointsRegressed,
    'data-regressions': t.regressedActions, 'data-risk-accepted': t.riskAcceptedPoints,
    'data-percentage': t.percentageAtEnd ?? '',
  },
  el('th', { scope: 'row' }, t.from === t.to ? longDate(t.from) : `${longDate(t.from)} – ${longDate(t.to)}`),
  el('td', { class: 'num achieved-text' }, `▲ ${points(t.pointsAchieved)}`),
  el('td', { class: 'num regressed-text' }, `▼ ${points(t.pointsRegressed)}`),
  el('td', { class: 'num' }, String(t.regressedActions)),
  el('td', { class: 'num' }, points(t.riskAcceptedPoints)),
  el('td', { class: 'num' }, t.percentageAtEnd == null ? '–' : percent(t.percentageAtEnd))));
  $('metrics-body').replaceChildren(
    periodBars(trends),
    el('div', { class: 'table-wrap' }, el('table', { class: 'metrics-table', 'aria-labelledby': 'metrics-title' },
      el('thead', {}, el('tr', {}, ['Period', 'Achieved', 'Regressed', 'Regressions', 'Risk accepted', 'At the end']
        .map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows))),
  );
}

function pickDay(date, second) {
  const days = state.tenant.scoreHistory.map((d) => d.date);
  const comparing = (second || state.compare) && state.picked.length === 1 && state.picked[0] !== date;
  if (comparing) {
    state.picked = [state.picked[0], date].sort();
    state.compare = false;
    $('compare').setAttribute('aria-pressed', 'false');
    showDiff(state.picked[0], state.picked[1], false);
  } else {
    state.picked = [date];
    const index = days.indexOf(date);
    if (index <= 0) {
      renderTrend();
      $('diff').replaceChildren(el('p', { class: 'hint' }, `${longDate(date)} is the first stored day in the range: pick a second day to compare with.`));
      return;
    }
    showDiff(days[index - 1], date, true);
  }
  renderTrend();
  $('trend-body').querySelector(`[data-date="${date}"]`)?.focus();
}

async function showDiff(from, to, againstPrevious) {
  const box = $('diff');
  box.replaceChildren(el('p', { class: 'hint' }, `Loading ${longDate(from)} → ${longDate(to)}…`));
  let diff;
  try {
    const data = await state.api.run('DashboardScoreDiff', { tenantId: state.tenantId, from, to });
    diff = data.tenant.scoreDiff;
  } catch (error) {
    box.replaceChildren(el('p', { class: 'error' }, `${error.message} (${error.code ?? 'error'})`));
    return;
  }
  const previous = againstPrevious && addDays(to, -1) !== from ? ' (the previous stored day)' : '';
  const regressions = diff.changes.filter((c) => c.scoreDelta < 0);
  const others = diff.changes.filter((c) => !(c.scoreDelta < 0));
  const rows = [...regressions, ...others].flatMap((change) => {
    const lost = change.scoreDelta < 0;
    const row = el('tr', { class: lost ? 'regression' : '', 'data-action': change.action.id, 'data-delta': change.scoreDelta },
      el('th', { scope: 'row' }, change.action.title, el('small', {}, ` ${label(change.action.category)}`)),
      el('td', {}, change.reasons.map(label).join(', ')),
      el('td', { class: 'num' }, `${points(change.scoreBefore)} → ${points(change.scoreAfter)}`),
      el('td', { class: 'num delta' }, `${lost ? '▼ ' : change.scoreDelta > 0 ? '▲ ' : ''}${signed(change.scoreDelta)}`),
      el('td', {}, `${label(change.statusBefore)} → ${label(change.statusAfter)}`),
      el('td', {}, change.stateBefore === change.stateAfter ? label(change.stateAfter) : `${label(change.stateBefore)} → ${label(change.stateAfter)}`));
    return change.directoryChanges.length ? [row, whoChangedIt(change)] : [row];
  });
  box.replaceChildren(
    el('h3', { id: 'diff-title' }, `What changed from ${longDate(from)}${previous} to ${longDate(to)}`),
    el('p', { class: 'diff-summary', 'data-score-delta': diff.scoreDelta, 'data-percentage-delta': diff.percentageDelta },
      `Score ${points(diff.before.score)} → ${points(diff.after.score)} (${signed(diff.scoreDelta)} points), `,
      `${percent(diff.before.percentage)} → ${percent(diff.after.percentage)} (${signed(diff.percentageDelta)} percentage points), `,
      `maximum ${signed(diff.maxScoreDelta)} points. `,
      regressions.length ? `${regressions.length} action${regressions.length === 1 ? '' : 's'} lost points (listed first).` : 'No action lost points.'),
    rows.length === 0 ? el('p', {}, 'No action changed.') : el('div', { class: 'table-wrap' }, el('table', { class: 'diff-table', 'aria-labelledby': 'diff-title' },
      el('thead', {}, el('tr', {}, ['Action', 'Why', 'Points', 'Change', 'Status', 'State'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows))),
  );
}

/** The row under a changed action: who changed what in the directory, and when. */
function whoChangedIt(change) {
  const items = change.directoryChanges.map((event) => el('li', { 'data-event': event.id },
    el('time', { datetime: event.at }, longDateTime(event.at)), ' ',
    el('strong', { class: 'who' }, event.initiatedBy ?? 'someone the audit log does not name'), ' ',
    event.activity.charAt(0).toLowerCase() + event.activity.slice(1),
    event.targets.length ? `: ${event.targets.map(describeTarget).join('; ')}` : '',
    event.result && event.result !== 'success' ? ` (${event.result})` : ''));
  return el('tr', { class: 'who-changed', 'data-for': change.action.id },
    el('td', { colspan: '6' },
      el('span', { class: 'hint' }, 'Who changed it (directory audit log):'),
      el('ul', {}, items)));
}

/** `Policy "MFA for admins" (Conditions, GrantControls)`. */
function describeTarget(target) {
  const name = target.displayName ?? target.id ?? '';
  const properties = target.modifiedProperties.length ? ` (${target.modifiedProperties.join(', ')})` : '';
  return `${target.type} “${name}”${properties}`;
}

// ---------------------------------------------------------------- improvement actions

/** The plan cell: owner, due date, tags, and an overdue marker that says so in words. */
function planCell(plan) {
  if (!plan) return el('td', { class: 'plan', 'data-plan': 'NONE' }, '–');
  const overdue = plan.status === 'OVERDUE';
  return el('td', { class: `plan${overdue ? ' overdue' : ''}`, 'data-plan': plan.status },
    overdue ? el('strong', { class: 'overdue-mark' }, '⚠ Overdue ') : null,
    plan.assignedTo ? el('span', { class: 'owner' }, plan.assignedTo) : null,
    plan.dueDate ? el('small', { class: 'due' }, ` due ${longDate(plan.dueDate)}`) : null,
    plan.tags.length ? el('small', { class: 'tags' }, ` ${plan.tags.map((t) => `#${t}`).join(' ')}`) : null);
}

function renderActions() {
  const editable = canEdit();
  const actions = state.actions.filter((row) => {
    if (state.category && row.action.category !== state.category) return false;
    if (state.status && row.status !== state.status) return false;
    if (!state.planFilter) return true;
    if (state.planFilter === 'NONE') return !row.plan;
    return row.plan?.status === state.planFilter;
  });
  const rows = actions.map((row, index) => el('tr', {
    'data-action': row.action.id, 'data-status': row.status, 'data-state': row.state,
    'data-plan': row.plan?.status ?? 'NONE',
  },
    el('td', { class: 'num' }, String(index + 1)),
    el('th', { scope: 'row' }, row.action.actionUrl
      ? el('a', { href: row.action.actionUrl, rel: 'noopener noreferrer', target: '_blank' }, row.action.title)
      : row.action.title),
    el('td', {}, label(row.action.category)),
    el('td', {}, statusText(row)),
    el('td', {}, label(row.state)),
    el('td', { class: 'num' }, row.progress ? `${points(row.progress.current)} / ${points(row.progress.total)}` : '–'),
    el('td', { class: 'num', 'data-value': row.score }, `${points(row.score)} / ${points(row.maxScore)}`),
    el('td', { class: 'num', 'data-value': row.potentialIncrease }, points(row.potentialIncrease)),
    el('td', { class: 'num', 'data-value': row.scoreImpact }, percent(row.scoreImpact)),
    planCell(row.plan),
    editable ? el('td', { class: 'change' }, el('button', {
      type: 'button', class: 'set-state', 'aria-label': `Set the state of ${row.action.title}`,
      onclick: () => openStateDialog(row),
    }, 'Set state'), el('button', {
      type: 'button', class: 'set-plan', 'aria-label': `Plan ${row.action.title}`,
      onclick: () => openPlanDialog(row),
    }, 'Plan')) : null));
  $('actions-head').replaceChildren(el('tr', {},
    ['#', 'Action', 'Category', 'Status', 'State', 'Progress', 'Points', 'Available', 'Impact', 'Plan', editable ? 'Change' : null]
      .filter(Boolean).map((h) => el('th', { scope: 'col' }, h))));
  $('actions-body').replaceChildren(...rows);
  $('actions-count').textContent = `${actions.length} action${actions.length === 1 ? '' : 's'}, most points available first`;
}

function openPlanDialog(row) {
  state.editing = row;
  $('plan-action').textContent = row.action.title;
  $('plan-owner').value = row.plan?.assignedTo ?? '';
  $('plan-due').value = row.plan?.dueDate ?? '';
  $('plan-tags').value = (row.plan?.tags ?? []).join(', ');
  $('plan-notes').value = row.plan?.notes ?? '';
  $('plan-clear').hidden = !row.plan;
  $('plan-error').textContent = '';
  $('plan-dialog').showModal();
}

async function savePlan(event) {
  event.preventDefault();
  const row = state.editing;
  const input = {
    tenantId: state.tenantId,
    actionId: row.action.id,
    assignedTo: $('plan-owner').value.trim() || null,
    dueDate: $('plan-due').value || null,
    tags: $('plan-tags').value.split(',').map((t) => t.trim()).filter(Boolean),
    notes: $('plan-notes').value.trim() || null,
  };
  try {
    await state.api.run('DashboardSetActionPlan', { input });
  } catch (error) {
    $('plan-error').textContent = `${error.message} (${error.code ?? 'error'})`;
    return;
  }
  $('plan-dialog').close();
  say(`${row.action.title}: plan saved.`);
  refreshSoon();
}

async function clearPlan() {
  const row = state.editing;
  try {
    await state.api.run('DashboardClearActionPlan', { tenantId: state.tenantId, actionId: row.action.id });
  } catch (error) {
    $('plan-error').textContent = `${error.message} (${error.code ?? 'error'})`;
    return;
  }
  $('plan-dialog').close();
  say(`${row.action.title}: plan cleared.`);
  refreshSoon();
}

function openStateDialog(row) {
  state.editing = row;
  $('state-action').textContent = row.action.title;
  $('state-select').value = row.state;
  $('state-comment').value = '';
  $('state-expiry').value = '';
  $('state-error').textContent = '';
  $('state-dialog').showModal();
}

async function saveState(event) {
  event.preventDefault();
  const row = state.editing;
  const expiry = $('state-expiry').value;
  const input = {
    tenantId: state.tenantId,
    actionId: row.action.id,
    state: $('state-select').value,
    comment: $('state-comment').value.trim() || null,
    expiresAt: expiry ? new Date(expiry).toISOString() : null,
  };
  try {
    await state.api.run('DashboardSetActionState', { input });
  } catch (error) {
    $('state-error').textContent = `${error.message} (${error.code ?? 'error'})`;
    return;
  }
  $('state-dialog').close();
  say(`${row.action.title}: ${label(input.state)} saved; today's score follows within seconds.`);
  if (!state.unsubscribe) refreshSoon();
}

// ---------------------------------------------------------------- wiring

function fillSelect(select, values, allText, text = label) {
  select.replaceChildren(el('option', { value: '' }, allText), ...values.map((v) => el('option', { value: v }, text(v))));
}

function wire() {
  fillSelect($('filter-category'), CATEGORIES, 'All categories');
  fillSelect($('filter-status'), STATUSES, 'All statuses');
  $('state-select').replaceChildren(...STATES.map((s) => el('option', { value: s }, label(s))));
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token-input').value.replace(/^Bearer\s+/i, '').trim();
    if (token) useToken(token);
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('tenant-picker').addEventListener('change', (event) => openTenant(event.target.value));
  $('range').addEventListener('change', (event) => {
    state.range = Number(event.target.value);
    state.picked = [];
    loadTenant();
  });
  $('compare').addEventListener('click', () => {
    state.compare = !state.compare;
    $('compare').setAttribute('aria-pressed', String(state.compare));
    say(state.compare ? 'Pick a second day to compare with the selected one.' : '');
  });
  $('filter-category').addEventListener('change', (event) => { state.category = event.target.value; renderActions(); });
  $('filter-status').addEventListener('change', (event) => { state.status = event.target.value; renderActions(); });
  $('state-form').addEventListener('submit', saveState);
  $('plan-form').addEventListener('submit', savePlan);
  $('plan-clear').addEventListener('click', clearPlan);
  $('plan-cancel').addEventListener('click', () => $('plan-dialog').close());
  $('filter-plan').addEventListener('change', (event) => { state.planFilter = event.target.value; renderActions(); });
  $('period').addEventListener('change', (event) => { state.period = event.target.value; loadTrends(); });
  $('state-cancel').addEventListener('click', () => $('state-dialog').close());
  $('partner-form').addEventListener('submit', (event) => state.onboarding?.setApplication(event));
  $('onboard-form').addEventListener('submit', (event) => state.onboarding?.connect(event));
  $('onboard-file').addEventListener('change', (event) => state.onboarding?.upload(event));
  $('estate-framework').addEventListener('change', (event) => { state.framework = event.target.value; loadEstate(); });
}

wire();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) useToken(saved);
else showTokenPanel();
