// The stats of live engine workers once they run nothing: after a reply, a clear or a load the
// element's warm-up (warm-prompt) may still be reading ahead for a few ms.
import { workerStats } from '../../src/engine/worker-client.ts';

type Stats = Awaited<ReturnType<typeof workerStats>>[number];

/** The stats of the worker whose URL ends with `url` (any, when absent) once it is idle; throws after `timeoutMs`. */
export async function idleWorkerStats(url = '', ok: (s: Stats) => boolean = () => true, timeoutMs = 30_000): Promise<Stats | undefined> {
  const t0 = performance.now();
  for (;;) {
    const all = await workerStats();
    const stats = all.find((s) => s.url.endsWith(url));
    if (!stats || (stats.runningRequests === 0 && stats.pendingRequests === 0 && stats.activeGenerations === 0 && ok(stats))) return stats;
    if (performance.now() - t0 > timeoutMs) throw new Error(`the worker ${url} never went idle: ${JSON.stringify(stats)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
