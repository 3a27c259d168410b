/*
 * NMEA 0183 sentences of a GNSS fix: the checksum, and the fields of GGA
 * (position, fix quality, satellites, HDOP, altitude) and RMC (speed over
 * ground and course) the firmware reads. nRF Cloud takes the GGA sentence
 * itself as GPS data, so nothing here rewrites one.
 */

/** The two hex digits after "*": the XOR of the characters between "$" and "*". */
export function nmeaChecksum(body: string): string {
	let sum = 0;
	for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
	return (sum < 16 ? "0" : "") + sum.toString(16).toUpperCase();
}

/** `$<body>*<checksum>` for a sentence body such as "GPGGA,...". */
export function nmeaSentence(body: string): string {
	return `$${body}*${nmeaChecksum(body)}`;
}

/** The fields of a sentence with a valid checksum (fields[0] is the talker and type, e.g. "GPGGA"); undefined otherwise. */
export function nmeaFields(sentence: string): string[] | undefined {
	if (typeof sentence !== "string") throw new TypeError("sentence must be a string");
	const match = /^\$([^*$]+)\*([0-9A-F]{2})$/.exec(sentence.trim());
	if (match === null || nmeaChecksum(match[1]!) !== match[2]) return undefined;
	return match[1]!.split(",");
}

/** "ddmm.mmmm" and "N"/"S" (or "dddmm.mmmm" and "E"/"W") as signed degrees; NaN when empty or malformed. */
function degrees(value: string | undefined, hemisphere: string | undefined, degreeDigits: number): number {
	if (value === undefined || !/^\d+\.\d+$/.test(value) || value.indexOf(".") !== degreeDigits + 2) return NaN;
	const result = Number(value.slice(0, degreeDigits)) + Number(value.slice(degreeDigits)) / 60;
	if (hemisphere === "S" || hemisphere === "W") return -result;
	return hemisphere === "N" || hemisphere === "E" ? result : NaN;
}

export interface GgaFix {
	/** hhmmss.ss, UTC. */
	time: string;
	latitude: number;
	longitude: number;
	/** 0 no fix, 1 GPS, 2 DGPS, ... */
	quality: number;
	satellites: number;
	hdop: number;
	/** Metres above mean sea level. */
	altitude: number;
}

export interface RmcFix {
	time: string;
	/** ddmmyy. */
	date: string;
	valid: boolean;
	latitude: number;
	longitude: number;
	/** Speed over ground, knots. */
	speedKnots: number;
	/** Course over ground, degrees true. */
	course: number;
}

/** A GGA sentence's fields; undefined for anything else or a bad checksum. */
export function parseGga(sentence: string): GgaFix | undefined {
	const f = nmeaFields(sentence);
	if (f === undefined || !/^..GGA$/.test(f[0]!) || f.length < 15) return undefined;
	return {
		time: f[1]!, latitude: degrees(f[2], f[3], 2), longitude: degrees(f[4], f[5], 3),
		quality: Number(f[6]), satellites: Number(f[7]), hdop: Number(f[8]), altitude: Number(f[9]),
	};
}

/** An RMC sentence's fields; undefined for anything else or a bad checksum. */
export function parseRmc(sentence: string): RmcFix | undefined {
	const f = nmeaFields(sentence);
	if (f === undefined || !/^..RMC$/.test(f[0]!) || f.length < 12) return undefined;
	return {
		time: f[1]!, valid: f[2] === "A", latitude: degrees(f[3], f[4], 2), longitude: degrees(f[5], f[6], 3),
		speedKnots: Number(f[7]), course: f[8] === "" ? NaN : Number(f[8]), date: f[9]!,
	};
}

/** The time stamp (hhmmss.ss) of a GGA or RMC sentence, which groups the sentences of one fix. */
export function nmeaTime(sentence: string): string | undefined {
	const f = nmeaFields(sentence);
	return f !== undefined && /^..(GGA|RMC)$/.test(f[0]!) ? f[1] : undefined;
}

export interface GnssFix {
	/** The GGA sentence as received, e.g. "$GPGGA,...*4F". */
	gga: string;
	/** The RMC sentence, or undefined when the fix had none. */
	rmc: string | undefined;
	position: GgaFix;
	motion: RmcFix | undefined;
}

/** The sentences of one fix, as the binding delivers them: lines separated by "\n". */
export function gnssFix(text: string): GnssFix | undefined {
	let gga: string | undefined;
	let rmc: string | undefined;
	for (const line of text.split("\n")) {
		const sentence = line.trim();
		if (/^\$..GGA,/.test(sentence)) gga = sentence;
		else if (/^\$..RMC,/.test(sentence)) rmc = sentence;
	}
	const position = gga === undefined ? undefined : parseGga(gga);
	if (gga === undefined || position === undefined) return undefined;
	return { gga, rmc, position, motion: rmc === undefined ? undefined : parseRmc(rmc) };
}
