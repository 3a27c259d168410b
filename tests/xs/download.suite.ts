/*
 * Inside XS: the device's download client over the native TLS socket (the
 * modem's security tag, hostname verification) from the local nRF Cloud's
 * firmware server, each fragment written to the DFU target, whose SHA-256
 * check tells whether the image arrived byte for byte; once directly, once
 * through the fault proxy that cuts the link three times.
 */

import { DfuTarget } from "../../modules/dfu/target.js";
import { Download, DownloadError, type DownloadOptions } from "../../modules/http/download.js";
import { CredentialType, at, writeCredential } from "../../modules/modem/at.js";
import { Errno } from "../../modules/platform/errno.js";
import { tcpSocket } from "../../modules/socket/tcp.js";
import { fixture } from "./generated/download-fixture.js";
import { assert, run, test } from "./harness.js";

const TAG = 16842753;

test("the cloud's CA and the device's certificate go into the modem's security tag", () => {
	at("AT+CFUN=4");
	writeCredential(TAG, CredentialType.CA_CERTIFICATE, fixture.ca);
	writeCredential(TAG, CredentialType.CLIENT_CERTIFICATE, fixture.cert);
	writeCredential(TAG, CredentialType.PRIVATE_KEY, fixture.key);
	at("AT+CFUN=1");
	assert.equal(at(`AT%CMNG=1,${TAG}`).length, 3);
});

interface Outcome {
	download: Download;
	size: number | undefined;
	error: DownloadError | undefined;
	target: DfuTarget;
}

/** Downloads into a MODEM DFU target that knows the image's SHA-256. */
function download(port: number, options: Partial<DownloadOptions> & { hostname?: string } = {}): Promise<Outcome> {
	const target = new DfuTarget({ type: "modem", size: fixture.size, sha256: fixture.sha256 });
	target.erase();
	return new Promise((resolve) => {
		const download: Download = new Download({
			connect: tcpSocket({ address: "127.0.0.1", port, secTag: TAG, hostname: options.hostname ?? "localhost" }),
			host: fixture.host, path: fixture.path, size: fixture.size,
			backoff: { minMs: 100, maxMs: 1000 },
			onFragment: (bytes) => { target.write(bytes); },
			onDone: (size) => resolve({ download, size, error: undefined, target }),
			onError: (error) => resolve({ download, size: undefined, error, target }),
			...options,
		});
	});
}

function statsLine(label: string, outcome: Outcome): void {
	console.log(`${label} ${JSON.stringify(outcome.download.stats)}`);
}

test("an image over TLS in 1700-byte ranges on one kept-alive connection; the DFU target's SHA-256 check passes", async () => {
	const outcome = await download(fixture.port);
	assert.equal(outcome.error, undefined, String(outcome.error));
	assert.equal(outcome.size, fixture.size);
	assert.equal(outcome.target.written, fixture.size);
	outcome.target.verify();
	const stats = outcome.download.stats;
	statsLine("direct", outcome);
	assert.equal(stats.requests, Math.ceil(fixture.size / 1700));
	assert.equal(stats.connections, 1);
	assert.equal(stats.bodyBytes, fixture.size);
	outcome.target.cancel();
	outcome.target.close();
});

test("through a link cut three times: resumed each time, the same SHA-256, fewer bytes than three downloads", async () => {
	const outcome = await download(fixture.proxyPort);
	assert.equal(outcome.error, undefined, String(outcome.error));
	outcome.target.verify();
	const stats = outcome.download.stats;
	statsLine("cut", outcome);
	assert.equal(stats.connections, 4, "three reconnects");
	assert.ok(stats.bodyBytes >= fixture.size && stats.bodyBytes < fixture.size + 3 * 1700, `body bytes ${stats.bodyBytes}: at most one fragment again per cut`);
	outcome.target.cancel();
	outcome.target.close();
});

test("the server's name is verified: another host name fails to connect", async () => {
	const outcome = await download(fixture.port, { hostname: "firmware.example.com", retries: 0 });
	assert.ok(outcome.error instanceof DownloadError, String(outcome.error));
	assert.equal(outcome.error!.reason, "connect", outcome.error!.message);
	assert.equal(outcome.error!.errno, Errno.EOPNOTSUPP, outcome.error!.message);
	outcome.target.close();
});

test("a path the server does not have: reason http, status 404", async () => {
	const outcome = await download(fixture.port, { path: `${fixture.path}.missing` });
	assert.equal(outcome.error?.reason, "http", String(outcome.error));
	assert.equal(outcome.error!.status, 404);
	assert.equal(outcome.error!.offset, 0);
	outcome.target.close();
});

await run("download");
