/*
 * The device ID a provisioned device connects with, read from its modem as a
 * factory line reads it: the firmware's client ID source decides (docs/protocol.md
 * §1.4). For `imei` it is the prefix and the IMEI (AT+CGSN), for `internal-uuid`
 * the device UUID of the attestation token (AT%ATTESTTOKEN); the certificate's
 * common name must be that ID, or the cloud refuses the connection. Only the
 * `compile-time` and `runtime` sources take an ID the modem does not know.
 */

export type ClientIdSourceName = "imei" | "internal-uuid" | "compile-time" | "runtime";

export const CLIENT_ID_SOURCES: readonly ClientIdSourceName[] = ["imei", "internal-uuid", "compile-time", "runtime"];

export interface ModemIdentity {
	imei: string;
	deviceUuid: string;
}

export interface DeviceIdRequest {
	/** Default `imei`. */
	source?: string;
	/** Default `nrf-`, the prefix of Nordic's own devices. */
	prefix?: string;
	/** The ID asked for; must agree with the modem for `imei` and `internal-uuid`. */
	deviceId?: string;
}

const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether the ID comes from the modem (so it can be read before anything is written). */
export function idFromModem(source: string | undefined): boolean {
	const name = checkSource(source);
	return name === "imei" || name === "internal-uuid";
}

function checkSource(source: string | undefined): ClientIdSourceName {
	const name = source ?? "imei";
	if (!(CLIENT_ID_SOURCES as readonly string[]).includes(name)) throw new RangeError(`client ID source must be one of ${CLIENT_ID_SOURCES.join(", ")}, not ${JSON.stringify(name)}`);
	return name as ClientIdSourceName;
}

export function checkDeviceIdShape(deviceId: string): void {
	if (typeof deviceId !== "string" || !DEVICE_ID.test(deviceId)) throw new RangeError(`device ID must be 1 to 64 characters of letters, digits, - and _, not ${JSON.stringify(deviceId)}`);
}

/**
 * The device ID for `request` on a modem with `identity` (undefined when the
 * source does not read the modem). Throws when the asked ID is not the one
 * the device will connect with, saying both.
 */
export function deviceIdFor(request: DeviceIdRequest, identity: ModemIdentity | undefined): string {
	const source = checkSource(request.source);
	const prefix = request.prefix ?? "nrf-";
	if (typeof prefix !== "string") throw new TypeError("the client ID prefix must be a string");
	if (request.deviceId !== undefined) checkDeviceIdShape(request.deviceId);
	if (source === "compile-time" || source === "runtime") {
		if (request.deviceId === undefined) throw new TypeError(`the ${source} client ID is the firmware's, not the modem's: give it with --device-id`);
		return request.deviceId;
	}
	if (identity === undefined) throw new TypeError(`the ${source} client ID is read from the modem`);
	if (source === "imei" && !/^\d{15}$/.test(identity.imei)) throw new Error(`the modem's IMEI ${JSON.stringify(identity.imei)} is not 15 digits`);
	const fromModem = source === "imei" ? `${prefix}${identity.imei}` : identity.deviceUuid;
	checkDeviceIdShape(fromModem);
	if (request.deviceId !== undefined && request.deviceId !== fromModem)
		throw new RangeError(`--device-id ${request.deviceId} disagrees with the modem: with the ${source} client ID it connects as ${fromModem} (${source === "imei" ? `IMEI ${identity.imei}` : "its device UUID"}); leave --device-id out, or write the modem's IMEI first`);
	return fromModem;
}
