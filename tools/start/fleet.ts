/*
 * The simulated fleet's state under DIR/devices: one emulated modem directory
 * per device (DIR/devices/<n>), each with the IMEI its modem made up, and a
 * device.json with the ID and association PIN provisioning gave it. A device
 * whose record is there and that the cloud knows is kept as it is, so a second
 * `npm start` resumes with the same devices; any other is provisioned, its ID
 * read from its modem (tools/provision).
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { provision } from "../provision/main.js";

export interface FleetDevice {
	/** 1-based, the directory's name. */
	number: number;
	modem: string;
	deviceId: string;
	pin: string;
	/** Provisioned by this start (false: resumed). */
	fresh: boolean;
}

interface DeviceRecordFile {
	deviceId: string;
	pin: string;
}

function readRecord(path: string): DeviceRecordFile | undefined {
	if (!existsSync(path)) return undefined;
	try {
		const record = JSON.parse(readFileSync(path, "utf8")) as Partial<DeviceRecordFile>;
		if (typeof record.deviceId === "string" && typeof record.pin === "string") return { deviceId: record.deviceId, pin: record.pin };
	}
	catch {
		// A damaged record: the device is provisioned again below.
	}
	return undefined;
}

/** Device `number` of the fleet in `state`: resumed when `known(id)` says the cloud has it, provisioned otherwise. */
export function fleetDevice(state: string, cloudState: string, number: number, known: (deviceId: string) => boolean): FleetDevice {
	if (!Number.isInteger(number) || number < 1) throw new RangeError("a device number is a whole number from 1");
	const modem = join(state, "devices", String(number));
	const recordPath = join(modem, "device.json");
	const record = readRecord(recordPath);
	if (record && known(record.deviceId)) return { number, modem, ...record, fresh: false };
	const result = provision({ cloudState, modem });
	writeFileSync(recordPath, JSON.stringify({ deviceId: result.deviceId, pin: result.pin }, null, 2) + "\n");
	return { number, modem, deviceId: result.deviceId, pin: result.pin, fresh: true };
}
