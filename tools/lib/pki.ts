/*
 * Certificates made with the openssl command line (Debian's openssl):
 * a CA, a server certificate for localhost and 127.0.0.1, client certificates
 * whose CN is the MQTT client id, and a second, untrusted CA.
 */

import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function openssl(args: string[], cwd: string): void {
	execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * Writes a file only its owner may read (mode 0600) from the first byte:
 * created with that mode, and brought to it when it existed already.
 */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
	writeFileSync(path, data, { mode: 0o600 });
	chmodSync(path, 0o600);
}

/** Makes an EC P-256 key `<name>.key` in `dir`, mode 0600 (openssl truncates the file and keeps its mode). */
export function privateKey(dir: string, name: string): void {
	writePrivateFile(join(dir, `${name}.key`), "");
	openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`], dir);
}

export interface Pki {
	dir: string;
	path(name: string): string;
	read(name: string): string;
	/** Issues `<name>.pem` and `<name>.key` signed by CA `<ca>` (ca or rogue-ca). */
	client(name: string, commonName: string, ca?: string): void;
	remove(): void;
}

/** Issues `<name>.pem` and `<name>.key` (EC P-256) in `dir`, signed by CA `<ca>.pem`/`<ca>.key` there. */
export function issue(dir: string, name: string, subject: string, ca: string, extensions: string, days = 2): void {
	privateKey(dir, name);
	openssl(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`], dir);
	writeFileSync(join(dir, `${name}.ext`), extensions);
	openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial",
		"-days", String(days), "-sha256", "-extfile", `${name}.ext`, "-out", `${name}.pem`], dir);
	rmSync(join(dir, `${name}.csr`), { force: true });
	rmSync(join(dir, `${name}.ext`), { force: true });
}

/** Makes a self-signed CA `<name>.pem`/`<name>.key` in `dir`. */
export function authority(dir: string, name: string, commonName: string, days = 2): void {
	privateKey(dir, name);
	openssl(["req", "-x509", "-new", "-key", `${name}.key`, "-subj", `/CN=${commonName}`, "-days", String(days), "-sha256",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", `${name}.pem`], dir);
}

export function createPki(): Pki {
	const dir = mkdtempSync(join(tmpdir(), "nrfcloud-pki-"));
	authority(dir, "ca", "Test Device CA");
	authority(dir, "rogue-ca", "Untrusted CA");
	issue(dir, "server", "/CN=localhost", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
	const pki: Pki = {
		dir,
		path: (name) => join(dir, name),
		read: (name) => readFileSync(join(dir, name), "utf8"),
		client: (name, commonName, ca = "ca") => issue(dir, name, `/CN=${commonName}`, ca, "extendedKeyUsage=clientAuth\n"),
		remove: () => rmSync(dir, { recursive: true, force: true }),
	};
	return pki;
}
