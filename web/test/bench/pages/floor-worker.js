// The floor program started inside a module worker, as gqlauth.js starts
// gqlauth.worker.js: ready.html?target=floor-worker creates this worker and
// waits for its message, posted once go.run has been called (floor.js). The
// page's cost of a worker (creating it, loading module scripts into it, one
// message back) is thus in the floor too.
import { startFloor } from './floor.js';

startFloor().then(() => postMessage('ready'), (e) => postMessage(`error: ${e && e.message}`));
