// Starting a real securescore server from a Node.js check (the graphql-http audit and the
// browser checks share it).
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The binary `cargo build` made, or SECURESCORE_BIN. */
export const binary = process.env.SECURESCORE_BIN
  ?? join(dirname(fileURLToPath(import.meta.url)), '../../target/debug/securescore');

/**
 * Starts `securescore serve` with `args` on a port the system picks (`--bind 127.0.0.1:0`, so
 * no guessed port can be taken already) and resolves to the address it logs it listens on; its
 * log goes to `logPath`.
 */
export function startServer(args, logPath) {
  const server = spawn(binary, ['serve', '--bind', '127.0.0.1:0', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = createWriteStream(logPath);
  server.stderr.pipe(log);
  return new Promise((resolve, reject) => {
    let seen = '';
    const watchForAddress = (chunk) => {
      seen += chunk.toString().replace(/\x1b\[[0-9;]*m/g, '');
      const listening = /securescore listening.*address=(\S+)/.exec(seen);
      if (listening) {
        server.stderr.off('data', watchForAddress);
        resolve({ server, origin: `http://${listening[1]}` });
      }
    };
    server.stderr.on('data', watchForAddress);
    server.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening; see ${logPath}`)));
    setTimeout(() => reject(new Error(`the server did not listen within 5 minutes; see ${logPath}`)), 300000).unref();
  });
}

