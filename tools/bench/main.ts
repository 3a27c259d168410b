/*
 * `npm run bench [-- --quick]`: every benchmark of the project, one after the
 * other; `-- --cloud` runs only the local nRF Cloud against Mosquitto
 * (`-- --cloud --cloud-profile DIR`: with a V8 CPU profile of the cloud
 * process written to DIR), `-- --footprint` only the nRF9160 footprint.
 */

import { printCodecBench, runCodecBench } from "./mqtt-codec.js";
import { cloudBench } from "./cloud-bench.js";
import { connectBench } from "./connect-bench.js";
import { downloadBench } from "./download-bench.js";
import { firmwareMemoryBench } from "./firmware-memory.js";
import { nrf9160FootprintBench } from "./nrf9160-footprint.js";
import { xsCodecBench, xsHeapBench } from "./xs-bench.js";

const quick = process.argv.includes("--quick");
if (process.argv.includes("--footprint")) {
	await nrf9160FootprintBench();
	process.exit(0);
}
if (process.argv.includes("--cloud")) {
	const profile = process.argv.indexOf("--cloud-profile");
	if (profile >= 0 && !process.argv[profile + 1]) throw new Error("--cloud-profile needs a directory");
	await cloudBench(quick ? 50 : 200, quick ? 40 : 250, profile >= 0 ? process.argv[profile + 1] : undefined);
	process.exit(0);
}
printCodecBench(runCodecBench(quick ? 60 : 250, quick ? 2 : 5));
xsCodecBench(quick ? 0.2 : 1);
await xsHeapBench();
await firmwareMemoryBench();
await cloudBench(quick ? 50 : 200, quick ? 40 : 250);
await connectBench(quick ? 3 : 7);
await nrf9160FootprintBench();
await downloadBench(quick ? 1 : 3);
