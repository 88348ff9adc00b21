// gqlauth's worker with start-up marks (phases.js, imported first), for
// ready.html?target=gqlauth&phases=1.
import { markRun } from './phases.js';
import './gqlauth.worker.js';

markRun(globalThis.Go);
