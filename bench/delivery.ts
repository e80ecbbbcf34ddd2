/**
 * The delivery section's webhook receiver: a process of its own (so that it does not share
 * autocannon's event loop), answering 204 and counting.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '../test/support/serviceProcess.js';

/** The receiver: POST anything -> 204 and one more counted; GET /count -> the count. */
const RECEIVER = `
const http = require('node:http');
let received = 0;
http.createServer((request, response) => {
  if (request.method === 'GET') return response.end(String(received));
  request.resume();
  request.on('end', () => { received++; response.writeHead(204).end(); });
}).listen(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('listening\\n'));`;

export interface BenchReceiver {
  url: string;
  received(): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchReceiver(): Promise<BenchReceiver> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', RECEIVER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout, 'data');
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/hook`,
    received: async () => Number(await (await fetch(`${base}/count`)).text()),
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
