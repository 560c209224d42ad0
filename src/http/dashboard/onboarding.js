// The onboarding view for PlatformAdmins: the partner application (set or rotated here), a
// list of customers pasted or uploaded as CSV (tenant id, name, directory id) connected in one
// call, each line's outcome, and every partner-application connection with its status and the
// consent link to send the customer's admin.

import { el, label, longDateTime } from './format.js';

const $ = (id) => document.getElementById(id);
/** Most lines one connectDirectories call takes. */
const MAX_LINES = 500;

/** The fields of one CSV line: commas split, double quotes group (`""` is a quote). */
function csvFields(line) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      field += '"';
      i += 1;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      fields.push(field.trim());
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field.trim());
  return fields;
}

/**
 * Reads a pasted or uploaded list: one customer a line, `tenant id, name, directory id` (the
 * name may be empty), a header line and blank lines skipped. Lines without three fields are
 * problems: reported, and left out of what is sent.
 */
export function parseDirectoryList(text) {
  const entries = [];
  const problems = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    const fields = csvFields(line);
    if (index === 0 && fields[0].toLowerCase().replace(/[\s_-]/g, '') === 'tenantid') return;
    if (fields.length !== 3 || !fields[0] || !fields[2]) {
      problems.push(`line ${index + 1}: give tenant id, name, directory id`);
      return;
    }
    const [tenantId, name, directoryId] = fields;
    entries.push({ tenantId, directoryId, ...(name ? { name } : {}) });
  });
  if (entries.length > MAX_LINES) problems.push(`${entries.length} lines: send at most ${MAX_LINES} at once`);
  return { entries, problems };
}

/** The onboarding view of one signed-in PlatformAdmin. */
export class Onboarding {
  /** `api` runs operations; `report(error)` shows one in the status line. */
  constructor(api, report) {
    this.api = api;
    this.report = report;
  }

  /** Reads the partner application and every partner-application connection, then shows them. */
  async load() {
    try {
      const connections = [];
      let after = null;
      let application = null;
      do {
        const data = await this.api.run('DashboardOnboarding', { after });
        application = data.partnerApplication;
        for (const { node } of data.tenants.edges) {
          if (node.graphConnection?.usesPartnerApplication) connections.push({ ...node.graphConnection, tenant: node });
        }
        after = data.tenants.pageInfo.hasNextPage ? data.tenants.pageInfo.endCursor : null;
      } while (after);
      this.renderApplication(application);
      this.renderConnections(connections);
    } catch (error) {
      this.report(error);
    }
  }

  renderApplication(application) {
    const line = $('partner-app');
    line.dataset.clientId = application?.clientId ?? '';
    line.textContent = application
      ? `Partner application ${application.clientId} (${label(application.credentialKind)}), set ${longDateTime(application.updatedAt)}.`
      : 'No partner application is set: set its client id and secret below before connecting customers.';
    $('partner-submit').textContent = application ? 'Rotate' : 'Set';
  }

  renderConnections(connections) {
    $('onboard-count').textContent = `${connections.length} tenant${connections.length === 1 ? '' : 's'} connected through the partner application`;
    $('onboard-body').replaceChildren(...connections.map((c) => el('tr', {
      'data-tenant': c.tenant.id, 'data-status': c.status, 'data-consent-url': c.consentUrl ?? '',
    },
    el('th', { scope: 'row' }, c.tenant.name, el('small', {}, ` ${c.tenant.id}`)),
    el('td', { class: 'mono' }, c.directoryId),
    el('td', {}, label(c.status)),
    el('td', {}, c.consentedAt ? `consented ${longDateTime(c.consentedAt)}` : (c.consentError ?? 'not yet')),
    el('td', { class: 'consent-link' }, c.consentUrl
      ? [el('input', { type: 'text', readonly: '', value: c.consentUrl, 'aria-label': `Consent link for ${c.tenant.name}` }),
        el('button', { type: 'button', onclick: (event) => copy(event.target, c.consentUrl) }, 'Copy')]
      : 'needs --public-url'))));
  }

  /** Sets or rotates the partner application from its form. */
  async setApplication(event) {
    event.preventDefault();
    const input = { clientId: $('partner-client').value.trim(), clientSecret: $('partner-secret').value };
    try {
      await this.api.run('DashboardSetPartnerApplication', { input });
      $('partner-secret').value = '';
      $('partner-error').textContent = '';
      await this.load();
    } catch (error) {
      $('partner-error').textContent = error.message;
    }
  }

  /** Connects the pasted list and shows each line's outcome. */
  async connect(event) {
    event.preventDefault();
    const { entries, problems } = parseDirectoryList($('onboard-list').value);
    const results = $('onboard-results');
    const unread = problems.map((p) => el('li', { class: 'error', 'data-problem': '' }, p));
    if (entries.length === 0 || entries.length > MAX_LINES) {
      results.replaceChildren(...(unread.length ? unread : [el('li', { class: 'error' }, 'The list is empty.')]));
      return;
    }
    try {
      const data = await this.api.run('DashboardConnectDirectories', { inputs: entries });
      const lines = data.connectDirectories;
      const refused = lines.filter((l) => l.error);
      results.replaceChildren(
        el('li', { 'data-connected': lines.length - refused.length }, `${lines.length - refused.length} connected`),
        ...refused.map((l) => el('li', { class: 'error', 'data-tenant': l.tenantId }, `${l.tenantId}: ${l.error}`)),
        ...unread,
      );
      await this.load();
    } catch (error) {
      results.replaceChildren(el('li', { class: 'error' }, error.message));
    }
  }

  /** Reads an uploaded CSV file into the list. */
  async upload(event) {
    const file = event.target.files?.[0];
    if (file) $('onboard-list').value = await file.text();
  }
}

/** Copies `text`, or selects it in its field when the clipboard is not available. */
async function copy(button, text) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.previousElementSibling?.select();
    button.textContent = 'Press Ctrl+C';
  }
}
