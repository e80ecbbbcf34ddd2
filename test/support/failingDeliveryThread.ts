/** A delivery thread entry that fails as it starts: what src/deliveryThread.ts does when its thread dies. */
throw new Error('this delivery thread fails at start');
