/*
 * Runs inside XS (simulator host): one MQTT connect, subscribe, publish (QoS 1,
 * echoed back by the broker) and disconnect over a plain TCP socket, then the
 * XS heap figures. With "baseline" it only loads the same modules, so the
 * difference is what the cycle itself costs.
 */

import { MqttClient } from "../../../modules/mqtt/client.js";
import { nativeCodec } from "../../../modules/mqtt/native-codec.js";
import { tcpSocket } from "../../../modules/socket/tcp.js";

const [mode, port, codecName] = native("xs_sim_args")() as string[];
const memory = native("xs_sim_memory") as () => Record<string, number>;

function report(extra: Record<string, unknown>): void {
	native("xs_sim_gc")();
	console.log(`BENCH ${JSON.stringify({ ...memory(), ...extra })}`);
}

if (mode === "baseline") {
	void MqttClient;
	void tcpSocket;
	void nativeCodec;
	report({ mode });
}
else {
	const topic = "nrf-352656100441776/d2c";
	const client = new MqttClient({
		clientId: "nrf-352656100441776",
		keepalive: 60,
		codec: codecName === "c" ? nativeCodec : undefined,
		onConnect() {
			client.subscribe([{ topic, qos: 1 }], 8765);
		},
		onSubscribe() {
			client.publish(topic, '{"appId":"GPS","messageType":"DATA","data":"$GPGGA,123519,6325.123,N,01025.456,E,1,08,0.9,545.4,M,46.9,M,,*47"}', { qos: 1 });
		},
		onMessage() {
			client.disconnect();
		},
		onClose(error) {
			if (error) throw error;
			report({ mode, codec: codecName ?? "ts" });
		},
	});
	client.connect(tcpSocket({ address: "127.0.0.1", port: Number(port) }));
}
