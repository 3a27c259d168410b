/*
 * Certificates of the local cloud, made at first start: its server CA and the
 * server certificate, and the device CA that signs device certificates (JITP).
 */

import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { authority, issue } from "../lib/pki.js";

/** Both loopback addresses: devices reach the cloud on whichever `localhost` gives them. */
const SERVER_ADDRESSES = ["127.0.0.1", "::1"];

/** Whether the server certificate in `dir` names `hostname`, localhost and every loopback address. */
function serverCertificateCovers(dir: string, hostname: string): boolean {
	const file = join(dir, "server.pem");
	if (!existsSync(file)) return false;
	const certificate = new X509Certificate(readFileSync(file));
	return [hostname, "localhost"].every((name) => certificate.checkHost(name) !== undefined)
		&& SERVER_ADDRESSES.every((address) => certificate.checkIP(address) !== undefined);
}

export function cloudPki(directory: string, hostname: string): { dir: string } {
	const dir = join(directory, "pki");
	mkdirSync(dir, { recursive: true });
	if (!existsSync(join(dir, "server-ca.pem"))) authority(dir, "server-ca", "Local nRF Cloud Server CA", 3650);
	if (!existsSync(join(dir, "device-ca.pem"))) authority(dir, "device-ca", "Local nRF Cloud Device CA", 3650);
	// a state directory from before ::1 was served gets a new certificate from the same CA
	if (!serverCertificateCovers(dir, hostname)) {
		const names = [hostname, "localhost"].map((name) => `DNS:${name}`);
		const addresses = SERVER_ADDRESSES.map((address) => `IP:${address}`);
		issue(dir, "server", `/CN=${hostname}`, "server-ca", `subjectAltName=${[...names, ...addresses].join(",")}\nextendedKeyUsage=serverAuth\n`, 3650);
	}
	return { dir };
}
