// Numbers and dates for display: rounded here, never in the API.

const oneDecimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const signedOneDecimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1, signDisplay: 'exceptZero' });

/** `61.53` → `61.5`. */
export const points = (value) => (value == null ? '–' : oneDecimal.format(value));
/** `61.53` → `61.5 %`. */
export const percent = (value) => (value == null ? '–' : `${oneDecimal.format(value)} %`);
/** `-2.04` → `−2`, `1.25` → `+1.3`, `0` → `0`. */
export const signed = (value) => (value == null ? '–' : signedOneDecimal.format(value).replace('-', '−'));

/** `COMPLETED` → `Completed`, `THIRD_PARTY` → `Third party`. */
export function label(value) {
  if (!value) return '–';
  const words = value.toLowerCase().replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A `YYYY-MM-DD` date `days` later (negative: earlier). */
export function addDays(date, days) {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}

/** Today's UTC date. */
export const today = () => new Date().toISOString().slice(0, 10);

/** `2026-11-25` → `25 Nov 2026`. */
export function longDate(date) {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC',
  });
}

/** `2026-11-25T09:14:00Z` → `25 Nov 2026, 09:14 UTC`. */
export function longDateTime(instant) {
  const at = new Date(instant);
  const time = at.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
  return `${longDate(instant.slice(0, 10))}, ${time} UTC`;
}

/** Creates an element with attributes and children (strings become text, never HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c != null && c !== false));
  return node;
}

/** Creates an SVG element with attributes and children. */
export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children.flat().filter((c) => c != null && c !== false));
  return node;
}
