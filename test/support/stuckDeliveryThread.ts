/** A delivery thread entry that never ends, whatever it is told: what `stop` ends by force. */
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', () => {});
