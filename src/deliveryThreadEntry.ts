/**
 * The webhook deliverer's thread (started by src/deliveryThread.ts): its own pool on the
 * process's database, the deliverer of src/delivery/deliverer.ts on it, and messages to and from
 * the main thread. On `stop` it stops the deliverer (leases released), closes its pool and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './db/database.js';
import { deliveryStore } from './db/deliveryStore.js';
import { startDeliverer } from './delivery/deliverer.js';
import type { DeliveryThreadData, FromDeliveryThread, ToDeliveryThread } from './deliveryThread.js';

const port = parentPort;
if (port === null) throw new Error('deliveryThreadEntry runs as a worker thread (src/deliveryThread.ts)');
const send = (message: FromDeliveryThread) => port.postMessage(message);

const { target, settings } = workerData as DeliveryThreadData;
const db = await openDatabase(target);
const deliverer = startDeliverer(deliveryStore(db), {
  settings,
  onOutcome: (outcome) => send({ type: 'outcome', outcome }),
  log: { warn: (fields, message) => send({ type: 'warn', fields, message }) },
});

port.on('message', (message: ToDeliveryThread) => {
  if (message.type === 'wake') return deliverer.wake();
  // Nothing is left to do about a failure while stopping: the thread ends either way.
  void deliverer
    .stop()
    .then(() => db.close())
    .catch(() => {})
    .finally(() => port.close());
});
