/*
 * A firmware download set up as the device meets it: the local nRF Cloud with
 * an image in its catalog, served over HTTPS by its firmware server, a device
 * certificate from its device CA, and optionally the fault proxy in front of
 * the server. The XS download suite and the benchmark both stand on it.
 */

import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalCloud } from "../cloud-sim/cloud.js";
import { FaultProxy } from "./fault-proxy.js";
import { issue } from "./pki.js";

export const RIG_DEVICE = "nrf-352656100441776";

export interface FirmwareRig {
	cloud: LocalCloud;
	image: Buffer;
	sha256: string;
	/** The job document's host ("localhost:<port>") and path (no leading slash). */
	host: string;
	path: string;
	port: number;
	/** PEM files and their text: the server CA, the device certificate and key. */
	files: { ca: string; cert: string; key: string };
	pem: { ca: string; cert: string; key: string };
	/** Starts a fault proxy in front of the firmware server. */
	proxy(cut?: "close" | "reset"): Promise<FaultProxy>;
	stop(): Promise<void>;
}

/** The first line of a modem update image: the firmware it installs, which the DFU target checks. */
const MODEM_IMAGE_HEADER = "mfw_nrf9160_1.0.0\n";

/**
 * A deterministic modem image of `size` bytes: the firmware line, then bytes
 * with no run of equal ones, so a misplaced fragment shows.
 */
export function testImage(size: number): Buffer {
	const image = Buffer.alloc(size);
	let x = 0x12345678;
	for (let i = 0; i < size; i++) {
		x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
		image[i] = x & 0xFF;
	}
	image.write(MODEM_IMAGE_HEADER, 0, "latin1");
	return image;
}

export async function startFirmwareRig(size: number): Promise<FirmwareRig> {
	const state = mkdtempSync(join(tmpdir(), "firmware-rig-"));
	const cloud = new LocalCloud({ stateDirectory: state, mqttPort: 0, firmwarePort: 0 });
	const proxies: FaultProxy[] = [];
	try {
		await cloud.start();
		const image = testImage(size);
		const sha256 = createHash("sha256").update(image).digest("hex");
		const record = cloud.addFirmware({ type: "MODEM", version: "1.0.0", sha256, files: [{ filename: "image.bin", image }] });
		const pki = cloud.pkiDirectory;
		issue(pki, "rig-device", `/CN=${RIG_DEVICE}`, "device-ca", "extendedKeyUsage=clientAuth\n");
		const files = { ca: join(pki, "server-ca.pem"), cert: join(pki, "rig-device.pem"), key: join(pki, "rig-device.key") };
		return {
			cloud, image, files,
			sha256,
			host: `localhost:${cloud.firmwarePort}`,
			path: cloud.firmwarePath(record),
			port: cloud.firmwarePort,
			pem: { ca: readFileSync(files.ca, "utf8"), cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") },
			proxy: async (cut) => {
				const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: cloud.firmwarePort }, cut });
				proxies.push(proxy);
				return proxy;
			},
			stop: async () => {
				for (const proxy of proxies) await proxy.close();
				await cloud.stop();
				rmSync(state, { recursive: true, force: true });
			},
		};
	}
	catch (error) {
		await cloud.stop().catch(() => undefined);
		rmSync(state, { recursive: true, force: true });
		throw error;
	}
}
