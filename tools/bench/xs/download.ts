/*
 * Runs inside XS (simulator host): one firmware download over TLS with the
 * device's download client, the bytes only counted (the benchmark measures
 * the client, not a flash), then the time it took, the client's statistics
 * and the XS heap figures. With "baseline" it provisions the tag and loads
 * the same modules only, so the difference is what the download costs.
 */

import { Download } from "../../../modules/http/download.js";
import { CredentialType, at, writeCredential } from "../../../modules/modem/at.js";
import { tcpSocket } from "../../../modules/socket/tcp.js";

const [mode, port, host, path, size, fragmentSize, ca, cert, key] = native("xs_sim_args")() as string[];
const memory = native("xs_sim_memory") as () => Record<string, number>;
const TAG = 16842753;

function report(extra: Record<string, unknown>): void {
	const peaks = memory();
	native("xs_sim_gc")();
	const live = memory();
	console.log(`BENCH ${JSON.stringify({ ...peaks, chunksLive: live.chunksUsed, slotsLive: live.slotsUsed, mode, ...extra })}`);
}

at("AT+CFUN=4");
writeCredential(TAG, CredentialType.CA_CERTIFICATE, ca!);
writeCredential(TAG, CredentialType.CLIENT_CERTIFICATE, cert!);
writeCredential(TAG, CredentialType.PRIVATE_KEY, key!);
at("AT+CFUN=1");

if (mode === "baseline") {
	void Download;
	void tcpSocket;
	report({});
}
else {
	let received = 0;
	const started = Date.now();
	const download = new Download({
		connect: tcpSocket({ address: "127.0.0.1", port: Number(port), secTag: TAG, hostname: "localhost" }),
		host: host!, path: path!, size: Number(size), fragmentSize: Number(fragmentSize),
		onFragment: (bytes) => { received += bytes.length; },
		onDone: () => report({ ms: Date.now() - started, received, stats: download.stats }),
		onError: (error) => { throw error; },
	});
}
