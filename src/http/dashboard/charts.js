// The graphs, drawn as plain SVG: the trend of daily percentages with the goal line, alert
// days, the score zones behind it and the forecast ahead of it; the comparison bars; and the
// points achieved and regressed per period. Every value is also written as text, so colour is
// never the only carrier of meaning.

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
 * `zones` ({good, fair}) are drawn as bands behind; `forecast` points (after `to`) as a dashed
 * line ahead, the axis running to the last of them.
 */
export function trendChart({ days, from, to, goal, alertDates, selected, onPick, zones, forecast = [] }) {
  const axisTo = forecast.length ? forecast[forecast.length - 1].date : to;
  const span = Math.max(daysBetween(from, axisTo), 1);
  const x = (date) => PAD.left + (daysBetween(from, date) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (pct) => PAD.top + (1 - pct / 100) * (HEIGHT - PAD.top - PAD.bottom);
  const chart = svg('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'trend-chart', role: 'group',
    'aria-label': `Daily percentage from ${longDate(from)} to ${longDate(to)}; pick a day to see what changed`,
  });
  if (zones) {
    const bands = [['good', 100, zones.good], ['fair', zones.good, zones.fair], ['poor', zones.fair, 0]];
    for (const [zone, top, bottom] of bands) {
      if (top <= bottom) continue;
      chart.append(svg('rect', {
        x: PAD.left, y: y(top), width: WIDTH - PAD.left - PAD.right, height: y(bottom) - y(top),
        class: `zone zone-${zone}`, 'data-zone': zone, 'data-from': bottom, 'data-to': top,
      }, svg('title', {}, `${zone[0].toUpperCase()}${zone.slice(1)}: ${percent(bottom)} to ${percent(top)}`)));
    }
  }
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
  if (forecast.length) {
    const last = days[days.length - 1];
    const start = last ? `M${x(last.date).toFixed(1)},${y(last.percentage).toFixed(1)} ` : '';
    const path = start + forecast.map((p, i) => `${i || start ? 'L' : 'M'}${x(p.date).toFixed(1)},${y(p.percentage).toFixed(1)}`).join(' ');
    chart.append(svg('path', { d: path, class: 'forecast-line' }));
    for (const point of forecast) {
      chart.append(svg('circle', {
        cx: x(point.date), cy: y(point.percentage), r: 2.5, class: 'forecast-point',
        'data-date': point.date, 'data-value': point.percentage,
      }, svg('title', {}, `Forecast ${longDate(point.date)}: ${percent(point.percentage)}`)));
    }
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

/**
 * Points achieved (up) and regressed (down) per period, with the numbers written beside: the
 * Metrics & trends graph.
 */
export function periodBars(trends) {
  const most = Math.max(1, ...trends.map((t) => Math.max(t.pointsAchieved, t.pointsRegressed)));
  const width = 800;
  const height = 180;
  const middle = height / 2;
  const step = (width - 60) / Math.max(trends.length, 1);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'period-chart', role: 'img',
    'aria-label': 'Points achieved and regressed per period' });
  chart.append(svg('line', { x1: 40, x2: width - 20, y1: middle, y2: middle, class: 'grid' }));
  trends.forEach((t, i) => {
    const x = 44 + i * step;
    const up = (t.pointsAchieved / most) * (middle - 10);
    const down = (t.pointsRegressed / most) * (middle - 10);
    chart.append(
      svg('rect', { x, y: middle - up, width: Math.max(step * 0.6, 2), height: up, class: 'achieved' },
        svg('title', {}, `${longDate(t.from)}: ${t.pointsAchieved.toFixed(1)} points achieved`)),
      svg('rect', { x, y: middle, width: Math.max(step * 0.6, 2), height: down, class: 'regressed' },
        svg('title', {}, `${longDate(t.from)}: ${t.pointsRegressed.toFixed(1)} points regressed`)),
    );
  });
  return chart;
}
