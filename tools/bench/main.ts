/* `npm run bench`: every benchmark of the project, one after the other. */

import { printCodecBench, runCodecBench } from "./mqtt-codec.js";
import { cloudBench } from "./cloud-bench.js";
import { connectBench } from "./connect-bench.js";
import { downloadBench } from "./download-bench.js";
import { firmwareMemoryBench } from "./firmware-memory.js";
import { xsCodecBench, xsHeapBench } from "./xs-bench.js";

const quick = process.argv.includes("--quick");
printCodecBench(runCodecBench(quick ? 60 : 250, quick ? 2 : 5));
xsCodecBench(quick ? 0.2 : 1);
await xsHeapBench();
await firmwareMemoryBench();
await cloudBench(quick ? 50 : 200, quick ? 20 : 50);
await connectBench(quick ? 3 : 7);
await downloadBench(quick ? 1 : 3);
