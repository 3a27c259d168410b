/*
 * A QoS 1 PUBLISH read straight from its MQTT 3.1.1 frame, for the embedded
 * broker's path for device messages the cloud keeps (broker-embedded.ts):
 * topic, packet identifier and payload, without the generic packet parser.
 * Anything this does not read plainly (another QoS, a topic that is empty,
 * not clean UTF-8, or holds a wildcard or a null character, packet id 0, a
 * frame cut short) is left to the broker's own parser, which refuses what is
 * malformed.
 */

export interface KeptPublish {
	topic: string;
	packetId: number;
	payload: Buffer;
}

/** The PUBLISH in `frame` (one whole MQTT 3.1.1 packet), or undefined when it is not a plain QoS 1 one. */
export function readQos1Publish(frame: Buffer): KeptPublish | undefined {
	// packet type 3 and QoS 1; DUP and RETAIN may be either
	if ((frame[0]! & 0xF6) !== 0x32) return undefined;
	let offset = 1;
	while (offset < 4 && (frame[offset]! & 0x80) !== 0) offset++;
	offset++;
	if (offset + 2 > frame.length) return undefined;
	const topicLength = frame.readUInt16BE(offset);
	offset += 2;
	if (topicLength === 0 || offset + topicLength + 2 > frame.length) return undefined;
	const topic = frame.toString("utf8", offset, offset + topicLength);
	if (/[\uFFFD\u0000+#]/.test(topic)) return undefined;
	offset += topicLength;
	const packetId = frame.readUInt16BE(offset);
	if (packetId === 0) return undefined;
	return { topic, packetId, payload: frame.subarray(offset + 2) };
}

/** The number of levels of a topic name, as the broker counts them against its maximum. */
export function topicLevels(topic: string): number {
	let levels = 1;
	for (let i = topic.indexOf("/"); i >= 0; i = topic.indexOf("/", i + 1)) levels++;
	return levels;
}
