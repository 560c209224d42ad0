// The two graphs, drawn as plain SVG: the trend of daily percentages with the goal line and
// alert days, and the comparison bars. Every value is also written as text, so colour is never
// the only carrier of meaning.

import { addDays, el, longDate, percent, svg } from './format.js';

const WIDTH = 800;
const HEIGHT = 260;
const PAD = { left: 48, right: 20, top: 26, bottom: 34 };

/** Days from `from` to `to`, both included. */
function daysBetween(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86400000);
}

/**
 * The trend graph. `days` are stored scores (ascending); `selected` the picked dates;
 * `onPick(date, second)` runs on click or Enter (second: Shift held, or the compare toggle on).
 */
export function trendChart({ days, from, to, goal, alertDates, selected, onPick }) {
  const span = Math.max(daysBetween(from, to), 1);
  const x = (date) => PAD.left + (daysBetween(from, date) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (pct) => PAD.top + (1 - pct / 100) * (HEIGHT - PAD.top - PAD.bottom);
  const chart = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'trend-chart', role: 'group',
    'aria-label': `Daily percentage from ${longDate(from)} to ${longDate(to)}; pick a day to see what changed`,
  });
  for (const tick of [0, 25, 50, 75, 100]) {
    chart.append(
      svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(tick), y2: y(tick), class: 'grid' }),
      svg('text', { x: PAD.left - 8, y: y(tick) + 4, class: 'axis-label', 'text-anchor': 'end' }, `${tick} %`),
    );
  }
  const ticks = 6;
  for (let i = 0; i <= ticks; i++) {
    const date = addDays(from, Math.round((span * i) / ticks));
    chart.append(svg('text', { x: x(date), y: HEIGHT - 10, class: 'axis-label', 'text-anchor': 'middle' },
      longDate(date).replace(/ \d{4}$/, '')));
  }
  if (goal != null) {
    chart.append(
      svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(goal), y2: y(goal), class: 'goal-line' }),
      svg('text', { x: PAD.left + 6, y: y(goal) - 6, class: 'goal-label', 'text-anchor': 'start' }, `Goal ${percent(goal)}`),
    );
  }
  if (days.length > 1) {
    const path = days.map((d, i) => `${i ? 'L' : 'M'}${x(d.date).toFixed(1)},${y(d.percentage).toFixed(1)}`).join(' ');
    chart.append(svg('path', { d: path, class: 'trend-line' }));
  }
  const points = [];
  days.forEach((day, index) => {
    const alert = alertDates.has(day.date);
    const picked = selected.indexOf(day.date);
    // The day's column, halfway to each neighbour, is its target: easy to hit when days crowd.
    const left = index === 0 ? x(day.date) - 6 : (x(days[index - 1].date) + x(day.date)) / 2;
    const right = index === days.length - 1 ? x(day.date) + 6 : (x(day.date) + x(days[index + 1].date)) / 2;
    const description = `${longDate(day.date)}: ${percent(day.percentage)}${alert ? ', alert raised' : ''}${picked >= 0 ? ', selected' : ''}`;
    const point = svg('g', {
      class: `point${alert ? ' alert' : ''}${picked >= 0 ? ' picked' : ''}`,
      role: 'button', tabindex: '-1', 'aria-label': description, 'data-date': day.date,
      'aria-pressed': picked >= 0 ? 'true' : 'false',
    },
    svg('title', {}, description),
    svg('rect', { x: left, y: PAD.top, width: Math.max(right - left, 1), height: HEIGHT - PAD.top - PAD.bottom, class: 'hit' }),
    svg('circle', { cx: x(day.date), cy: y(day.percentage), r: picked >= 0 ? 6 : 3.5, class: 'dot' }));
    if (alert) {
      const ax = x(day.date);
      point.append(svg('path', { d: `M${ax - 6},${PAD.top - 12} L${ax + 6},${PAD.top - 12} L${ax},${PAD.top - 2} Z`, class: 'alert-mark' }));
    }
    point.addEventListener('click', (event) => onPick(day.date, event.shiftKey));
    point.addEventListener('keydown', (event) => {
      const move = { ArrowLeft: -1, ArrowRight: 1, Home: -index, End: days.length - 1 - index }[event.key];
      if (move !== undefined) {
        event.preventDefault();
        const next = points[Math.min(Math.max(index + move, 0), points.length - 1)];
        points.forEach((p) => p.setAttribute('tabindex', '-1'));
        next.setAttribute('tabindex', '0');
        next.focus();
      } else if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        onPick(day.date, event.shiftKey);
      }
    });
    points.push(point);
    chart.append(point);
  });
  const focusable = points.find((p) => p.classList.contains('picked')) ?? points[points.length - 1];
  focusable?.setAttribute('tabindex', '0');
  return chart;
}

/** A labelled bar from 0 to 100 %, with its value as text; `value` null shows `hiddenText`. */
function bar(labelText, detail, value, own, hiddenText) {
  const meter = svg('svg', { viewBox: '0 0 100 10', preserveAspectRatio: 'none', class: 'bar', 'aria-hidden': 'true' },
    svg('rect', { x: 0, y: 0, width: 100, height: 10, class: 'bar-track' }),
    value == null ? null : svg('rect', { x: 0, y: 0, width: Math.max(0, Math.min(100, value)), height: 10, class: own ? 'bar-own' : 'bar-fill' }));
  return el('div', { class: `bar-row${own ? ' own' : ''}`, role: 'listitem' },
    el('span', { class: 'bar-label' }, labelText, detail ? el('small', {}, ` ${detail}`) : null),
    meter,
    el('span', { class: 'bar-value', 'data-value': value ?? '' }, value == null ? hiddenText : percent(value)));
}

const BASIS_LABEL = { ALL_TENANTS: 'All tenants', SEAT_SIZE: 'Seat size', INDUSTRY: 'Industry' };

/** The comparison graph: the tenant's percentage against each of its groups' averages. */
export function comparisonBars(tenantName, percentage, comparison) {
  const rows = [bar(tenantName, '(this tenant)', percentage, true)];
  for (const group of comparison) {
    const name = group.basis === 'ALL_TENANTS' ? BASIS_LABEL[group.basis] : `${BASIS_LABEL[group.basis]}: ${group.group}`;
    const row = bar(name, `(${group.tenantCount} tenant${group.tenantCount === 1 ? '' : 's'})`,
      group.averagePercentage, false, 'Hidden: too few tenants to show an average');
    row.dataset.basis = group.basis;
    rows.push(row);
  }
  return el('div', { class: 'bars', role: 'list' }, rows);
}
