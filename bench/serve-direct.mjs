// Serves the built Worker from workerd directly (through Miniflare, as `wrangler dev` does),
// without the proxy worker `wrangler dev` puts in front of it. The realtime bench needs
// this: the proxy holds two descriptors per WebSocket (client side and worker side), so
// behind it 10,000 sockets exceed the machine's 20,000 open files per process.
//
// Usage (from the repository root, after `bash scripts/build.sh`):
//   node bench/serve-direct.mjs [port] [stateDir]
// Same configuration as `wrangler dev` (wrangler.jsonc and .dev.vars, read by wrangler's
// own `unstable_getMiniflareWorkerOptions`), local state in stateDir (D1 migrated first).
import { execFileSync } from "node:child_process";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const port = Number(process.argv[2] ?? 8788);
const state = process.argv[3] ?? ".wrangler/bench-state";
execFileSync(
  "node_modules/.bin/wrangler",
  ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state],
  { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);
const { workerOptions, main } = unstable_getMiniflareWorkerOptions("wrangler.jsonc");
const mf = new Miniflare({
  ...workerOptions,
  modules: true,
  scriptPath: main,
  host: "127.0.0.1",
  port,
  defaultPersistRoot: `${state}/v3`,
  bindings: {
    ...workerOptions.bindings,
    // The bench opens its sockets within seconds; each upgrade is a workspace request.
    WORKSPACE_REQUESTS_PER_MINUTE: "1000000",
  },
});
const url = await mf.ready;
console.log(`twenty-edge (workerd, no proxy) at ${url}`);
const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
