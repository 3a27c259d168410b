/* `npm run bench`: every benchmark of the project, one after the other. */

import { printCodecBench, runCodecBench } from "./mqtt-codec.js";
import { xsCodecBench, xsHeapBench } from "./xs-bench.js";

const quick = process.argv.includes("--quick");
printCodecBench(runCodecBench(quick ? 60 : 250, quick ? 2 : 5));
xsCodecBench(quick ? 0.2 : 1);
await xsHeapBench();
