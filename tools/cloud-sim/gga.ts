/*
 * Positions from NMEA GGA sentences, as devices send them in GPS messages
 * ({"appId":"GPS","messageType":"DATA","data":"$GPGGA,..."}). A sentence counts
 * only with a correct checksum (the XOR of the characters between "$" and "*",
 * two hex digits), a fix (quality not 0) and well-formed coordinates; anything
 * else is no position, never an exception.
 */

export interface Position {
	/** Degrees, north positive. */
	lat: number;
	/** Degrees, east positive. */
	lon: number;
	/** The fix's UTC time of day, hhmmss(.ss), as the sentence gives it. */
	time: string;
	/** The fix quality (1 GPS, 2 DGPS, ...). */
	quality: number;
	/** Satellites in use, when the sentence gives them. */
	satellites?: number;
	/** Altitude above mean sea level in metres, when given. */
	altitude?: number;
}

const MAX_SENTENCE = 120;

/** The checksum NMEA 0183 puts after "*": the XOR of the sentence body's character codes. */
export function nmeaChecksum(body: string): number {
	let sum = 0;
	for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
	return sum;
}

/** Degrees from NMEA's (d)ddmm.mmmm and a hemisphere letter; undefined when out of range or malformed. */
function angle(value: string, degreeDigits: number, hemisphere: string, positive: string, negative: string, limit: number): number | undefined {
	if (!new RegExp(`^\\d{${degreeDigits}}\\d{2}(\\.\\d+)?$`).test(value)) return undefined;
	if (hemisphere !== positive && hemisphere !== negative) return undefined;
	const degrees = Number(value.slice(0, degreeDigits));
	const minutes = Number(value.slice(degreeDigits));
	if (minutes >= 60) return undefined;
	const result = degrees + minutes / 60;
	if (result > limit) return undefined;
	return hemisphere === negative ? -result : result;
}

function optionalNumber(value: string | undefined): number | undefined {
	return value !== undefined && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : undefined;
}

/** The position a GGA sentence reports, or undefined for a bad sentence, another sentence type or no fix. */
export function parseGga(sentence: unknown): Position | undefined {
	if (typeof sentence !== "string") return undefined;
	const text = sentence.trim();
	if (text.length > MAX_SENTENCE) return undefined;
	const framed = /^\$([^$*]+)\*([0-9A-Fa-f]{2})$/.exec(text);
	if (!framed) return undefined;
	const body = framed[1]!;
	if (nmeaChecksum(body) !== parseInt(framed[2]!, 16)) return undefined;
	const fields = body.split(",");
	if (!/^[A-Z]{2}GGA$/.test(fields[0]!) || fields.length < 10) return undefined;
	const quality = Number(fields[6]);
	if (!/^\d$/.test(fields[6]!) || quality === 0) return undefined;
	const lat = angle(fields[2]!, 2, fields[3]!, "N", "S", 90);
	const lon = angle(fields[4]!, 3, fields[5]!, "E", "W", 180);
	if (lat === undefined || lon === undefined) return undefined;
	const position: Position = { lat, lon, time: fields[1]!, quality };
	const satellites = optionalNumber(fields[7]);
	if (satellites !== undefined) position.satellites = satellites;
	const altitude = optionalNumber(fields[9]);
	if (altitude !== undefined) position.altitude = altitude;
	return position;
}
