/*
 * A peer for the download benchmark, run as its own process: Node's HTTPS
 * client fetching an image in the device's pattern, one Range request per
 * fragment on one kept-alive connection. Prints the milliseconds it took.
 * Arguments: port, path, size, fragment size, CA file, certificate, key.
 */

import { readFileSync } from "node:fs";
import { Agent, get } from "node:https";

const [port, path, size, fragmentSize, ca, cert, key] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const total = Number(size);
const step = Number(fragmentSize);
const credentials = { ca: readFileSync(ca!), cert: readFileSync(cert!), key: readFileSync(key!) };
let received = 0;
const started = Date.now();
for (let first = 0; first < total; first += step) {
	const last = Math.min(first + step, total) - 1;
	await new Promise<void>((resolve, reject) => {
		get({ host: "127.0.0.1", servername: "localhost", port: Number(port), path: `/${path}`, agent, ...credentials, headers: { range: `bytes=${first}-${last}` } }, (response) => {
			if (response.statusCode !== 206) reject(new Error(`status ${response.statusCode}`));
			response.on("data", (chunk: Buffer) => { received += chunk.length; });
			response.on("end", () => resolve());
		}).on("error", reject);
	});
}
agent.destroy();
if (received !== total) throw new Error(`received ${received} of ${total} bytes`);
console.log(Date.now() - started);
