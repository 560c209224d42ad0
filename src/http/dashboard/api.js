// The dashboard's only way to the server: the named operations of operations.graphql, queries
// sent as automatic persisted queries by GET, mutations by POST, the score subscription over
// graphql-transport-ws (graphql-ws, vendored). Nothing here knows about the page.

const ENDPOINT = '/graphql';
// application/json: a hash the server does not know yet is an answer (200 with errors), not a
// failed request the browser reports.
const ACCEPT = 'application/json';

/** A GraphQL error answer, with the server's `extensions.code`. */
export class ApiError extends Error {
  constructor(message, code, path, retryAfter) {
    super(message);
    this.code = code ?? 'UNKNOWN';
    this.path = path;
    this.retryAfter = retryAfter;
  }
}

// A throttled query is retried after the server's `Retry-After`, at most this many times.
const THROTTLED_RETRIES = 3;
const sleep = (seconds) => new Promise((resolve) => { setTimeout(resolve, seconds * 1000); });

/** Splits a document into its operations by name: kind and exact text of each. */
export function parseOperations(text) {
  const operations = new Map();
  const starts = [...text.matchAll(/^(query|mutation|subscription)\s+(\w+)/gm)];
  starts.forEach((match, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].index : text.length;
    operations.set(match[2], { kind: match[1], text: text.slice(match.index, end).trim() });
  });
  return operations;
}

let operationsLoaded;
function operations() {
  operationsLoaded ??= fetch('/dashboard/operations.graphql')
    .then((response) => {
      if (!response.ok) throw new Error(`operations.graphql: HTTP ${response.status}`);
      return response.text();
    })
    .then(parseOperations);
  return operationsLoaded;
}

/** Hex SHA-256 of `text`, or null where the browser offers no WebCrypto (not a secure context). */
async function sha256Hex(text) {
  if (!globalThis.crypto?.subtle) return null;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function readAnswer(response) {
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) {
    throw new ApiError(`HTTP ${response.status} from the server`, response.status === 401 ? 'UNAUTHENTICATED' : 'HTTP');
  }
  return response.json();
}

function firstError(answer) {
  const error = answer.errors?.[0];
  return error ? new ApiError(error.message, error.extensions?.code, error.path, error.extensions?.retryAfter) : null;
}

/** A client for one bearer token. */
export class Api {
  constructor(token) {
    this.token = token;
    this.socket = null;
    // Told when a query is throttled: (message, seconds until the retry).
    this.onThrottled = null;
  }

  headers(extra = {}) {
    return { Accept: ACCEPT, Authorization: `Bearer ${this.token}`, ...extra };
  }

  /**
   * Runs the named operation; resolves to its `data`, rejects with an ApiError. A query
   * refused by the caller's query-cost budget waits the `Retry-After` the server gave and is
   * sent again (a few times at most) instead of being repeated at once.
   */
  async run(name, variables = {}) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.runOnce(name, variables);
      } catch (error) {
        const throttled = error instanceof ApiError && error.code === 'RATE_LIMITED';
        if (!throttled || attempt >= THROTTLED_RETRIES || (await this.kindOf(name)) !== 'query') throw error;
        const seconds = Math.max(1, Number(error.retryAfter) || 1);
        this.onThrottled?.(error.message, seconds);
        await sleep(seconds);
      }
    }
  }

  async kindOf(name) {
    return (await operations()).get(name)?.kind;
  }

  async runOnce(name, variables) {
    const operation = (await operations()).get(name);
    if (!operation) throw new Error(`operations.graphql has no operation ${name}`);
    let answer;
    if (operation.kind === 'query') {
      operation.hash ??= await sha256Hex(operation.text);
      if (operation.hash) {
        answer = await this.get(name, variables, operation.hash, null);
        if (firstError(answer)?.code === 'PERSISTED_QUERY_NOT_FOUND') {
          answer = await this.get(name, variables, operation.hash, operation.text);
        }
      } else {
        answer = await this.post(name, operation.text, variables);
      }
    } else if (operation.kind === 'mutation') {
      answer = await this.post(name, operation.text, variables);
    } else {
      throw new Error(`${name} is a subscription: use subscribe()`);
    }
    const error = firstError(answer);
    if (error) throw error;
    return answer.data;
  }

  async get(name, variables, hash, text) {
    const params = new URLSearchParams({
      operationName: name,
      variables: JSON.stringify(variables),
      extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash } }),
    });
    if (text) params.set('query', text);
    return readAnswer(await fetch(`${ENDPOINT}?${params}`, { headers: this.headers() }));
  }

  async post(name, text, variables) {
    const response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: this.headers({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ operationName: name, query: text, variables }),
    });
    return readAnswer(response);
  }

  /**
   * Subscribes to the named subscription; `onEvent(data)` for each event, `onDown(error)` when
   * the connection fails for good. Returns a function that ends the subscription.
   */
  async subscribe(name, variables, onEvent, onDown) {
    const operation = (await operations()).get(name);
    if (!globalThis.graphqlWs) throw new Error('the WebSocket client did not load');
    if (!this.socket) {
      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      this.socket = globalThis.graphqlWs.createClient({
        url: `${scheme}//${location.host}${ENDPOINT}`,
        connectionParams: { Authorization: `Bearer ${this.token}` },
        retryAttempts: 5,
        lazy: true,
      });
    }
    return this.socket.subscribe(
      { query: operation.text, operationName: name, variables },
      {
        next: (answer) => {
          const error = firstError(answer);
          if (error) onDown(error);
          else onEvent(answer.data);
        },
        error: (error) => onDown(error instanceof Error ? error : new Error(String(error?.reason ?? error?.type ?? error))),
        complete: () => {},
      },
    );
  }

  /** Closes the WebSocket, if one is open. */
  close() {
    this.socket?.dispose();
    this.socket = null;
  }
}
