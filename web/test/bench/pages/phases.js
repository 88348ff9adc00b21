// Marks the start-up phases inside a worker, for ready.html?phases=1 (a
// diagnostic: the budget's loads run without it). A worker imports this
// module first, so it is evaluated once the worker's scripts are loaded; it
// wraps WebAssembly.instantiate*, and markRun wraps Go.prototype.run, whose
// synchronous part is the Go runtime's start up to main blocking. The marks
// (ms since the epoch, on the clock the page shares) go to the page on the
// BroadcastChannel "gqlauth-bench-phases" once go.run has returned.
const now = () => performance.timeOrigin + performance.now();
const marks = { scriptsLoaded: now() };

for (const name of ['instantiateStreaming', 'instantiate']) {
  const original = WebAssembly[name];
  if (typeof original !== 'function') continue;
  WebAssembly[name] = function (...args) {
    marks.instantiateCalled ??= now();
    return original.apply(this, args).then((r) => { marks.instantiated = now(); return r; });
  };
}

/** Wraps Go.prototype.run to mark Go's start, then posts the marks. */
export function markRun(Go) {
  const run = Go.prototype.run;
  Go.prototype.run = function (instance) {
    marks.runCalled = now();
    const exited = run.call(this, instance);
    marks.runReturned = now();
    new BroadcastChannel('gqlauth-bench-phases').postMessage(marks);
    return exited;
  };
}
