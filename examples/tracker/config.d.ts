/* The build-time settings of the app: mcconfig makes "mc/config" from the manifest's "config" section. */
declare module "mc/config" {
	const config: {
		host: string;
		port: number;
		hostname: string;
		secTag: number;
		keepalive: number;
		clientIdSource: "imei" | "internal-uuid" | "compile-time" | "runtime";
		clientId: string;
		retryMs: number;
		retryMaxMs: number;
		sendIntervalMs: number;
		rounds: number;
		/** Reported as deviceInfo.appVersion when the app does not run from an MCUboot image. */
		appVersion: string;
		/** Apply a MODEM update at once (modem re-initialised) instead of rebooting. */
		modemFotaWithoutReboot: boolean;
		/** The FOTA types the device takes. */
		fotaTypes: string[];
	};
	export default config;
}
