/*
 * `npm start`: the MQTT layer of the project at work. A device client (the same
 * TypeScript modules that run in XS) connects with mutual TLS to a local
 * Mosquitto, subscribes to its cloud-to-device topic, sends GPS and FLIP sensor
 * messages in the nRF Cloud format with QoS 1 and 0, receives a command sent by
 * mosquitto_pub, and disconnects. Everything it starts, it stops.
 */

import { MqttClient } from "../../modules/mqtt/client.js";
import { nodeSocket } from "../../hosts/node/socket.js";
import { mosquittoPub, mosquittoSub, startMosquitto, stopTools } from "../lib/mosquitto.js";
import { createPki } from "../lib/pki.js";

const DEVICE = "nrf-352656100441776";
const C2D = `${DEVICE}/c2d`;
const D2C = `${DEVICE}/d2c`;

function log(line: string): void {
	console.log(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
}

async function main(): Promise<void> {
	const pki = createPki();
	pki.client("device", DEVICE);
	pki.client("operator", "nrf-operator");
	const broker = await startMosquitto(pki);
	log(`Mosquitto with TLS and required client certificates on 127.0.0.1:${broker.port}`);
	const operator = await mosquittoSub(pki, broker.port, "operator", ["-q", "1", "-t", D2C, "-C", "2"]);
	try {
		const done = new Promise<void>((resolve, reject) => {
			const client = new MqttClient({
				clientId: DEVICE,
				keepalive: 60,
				onConnect(sessionPresent) {
					log(`CONNACK: connected as ${DEVICE} (session present: ${sessionPresent})`);
					client.subscribe([{ topic: C2D, qos: 1 }], 8765);
				},
				onSubscribe(packetId, codes) {
					log(`SUBACK ${packetId}: granted QoS ${codes.join(", ")} on ${C2D}`);
					const gps = JSON.stringify({ appId: "GPS", messageType: "DATA", data: "$GPGGA,123519,6325.123,N,01025.456,E,1,08,0.9,545.4,M,46.9,M,,*47" });
					log(`PUBLISH QoS 1 id ${client.publish(D2C, gps, { qos: 1 })}: ${gps}`);
					const flip = JSON.stringify({ appId: "FLIP", messageType: "DATA", data: "UPSIDE_DOWN" });
					client.publish(D2C, flip, { qos: 0 });
					log(`PUBLISH QoS 0: ${flip}`);
				},
				onPublish(packetId) {
					log(`PUBACK ${packetId}`);
					mosquittoPub(pki, broker.port, "operator", ["-q", "1", "-t", C2D, "-m", '{"appId":"LED","messageType":"CFG_SET","data":{"state":"ON"}}'])
						.catch(reject);
				},
				onMessage(message) {
					log(`c2d message on ${message.topic} (QoS ${message.qos}): ${new TextDecoder().decode(message.payload)}`);
					client.disconnect();
				},
				onClose(error) {
					if (error) reject(error);
					else {
						log("DISCONNECT sent; connection closed");
						resolve();
					}
				},
			});
			client.connect(nodeSocket({
				host: "127.0.0.1",
				port: broker.port,
				tls: { ca: pki.read("ca.pem"), cert: pki.read("device.pem"), key: pki.read("device.key"), servername: "localhost" },
			}));
		});
		await done;
		for (const line of await operator.wait(2)) log(`operator received d2c: ${line}`);
	}
	finally {
		stopTools();
		await broker.stop();
		pki.remove();
	}
}

main().catch((error: unknown) => {
	console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
	process.exitCode = 1;
});
