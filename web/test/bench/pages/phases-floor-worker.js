// floor-worker.js with start-up marks (phases.js, imported first), for
// ready.html?target=floor-worker&phases=1.
import { markRun } from './phases.js';
import { startFloor } from './floor.js';

markRun(globalThis.Go);
startFloor().then(() => postMessage('ready'), (e) => postMessage(`error: ${e && e.message}`));
