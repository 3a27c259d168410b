/*
 * The generic Cloud API with the NRF_CLOUD backend: binding, the documented
 * init errors, connect results, event translation and the send rules, over the
 * scripted nRF Cloud (V14 and V15 on the wire).
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
	CloudConnectResult, CloudDisconnectReason, CloudEndpointType, CloudEventType, CloudQos, SYS_FOREVER_MS,
	cloudConnect, cloudDisconnect, cloudEpSubscriptionsAdd, cloudEpSubscriptionsRemove, cloudGetBinding, cloudInit, cloudInput,
	cloudKeepaliveTimeLeft, cloudPing, cloudSend, cloudUninit, cloudUserDataSet, type CloudBackend, type CloudEvent,
} from "../modules/cloud/cloud.js";
import { NRF_CLOUD_BACKEND, defineNrfCloudBackend, translateEvent } from "../modules/cloud/nrf-cloud-backend.js";
import { Errno } from "../modules/nrf-cloud/constants.js";
import { NrfCloud } from "../modules/nrf-cloud/api.js";
import { MemorySettings } from "../modules/nrf-cloud/settings.js";
import { nodeSocket } from "../hosts/node/socket.js";
import { C2D, CloudPeer, D2C, DEVICE_ID, UNASSOCIATED_SHADOW, pairedDesired, publishes, text } from "./support/nrf-cloud-peer.js";
import { until } from "./support/until.js";
import {
	SPEC_CLOUD_DISCONNECT_REASON, SPEC_CLOUD_ENDPOINT_TYPE, SPEC_CLOUD_EVENT_FOR, SPEC_CLOUD_EVENT_TYPE, SPEC_CONNECT_RESULT, SPEC_DISCONNECT_STATUS,
	SPEC_EVENT_TYPE, V14_HELLO, V15_INITIAL,
} from "./support/vectors.js";

let peer: CloudPeer;
before(async () => { peer = await CloudPeer.start(); });
after(async () => { await peer.stop(); });

function backendFor(config: ConstructorParameters<typeof NrfCloud>[1] = {}): CloudBackend {
	const library = new NrfCloud({
		socket: () => nodeSocket({ host: "127.0.0.1", port: peer.port }),
		settings: new MemorySettings(),
		modem: { imei: () => "352656100441776", deviceUuid: () => "00000000-0000-0000-0000-000000000000" },
	}, { pollThread: true, ...config });
	defineNrfCloudBackend(library);
	return cloudGetBinding(NRF_CLOUD_BACKEND)!;
}

class Events {
	readonly list: Array<{ event: CloudEvent; userData: unknown }> = [];
	readonly handler = (_backend: CloudBackend, event: CloudEvent, userData: unknown) => { this.list.push({ event, userData }); };
	types(): number[] { return this.list.map((e) => e.event.type); }
	async waitFor(type: number, count = 1): Promise<CloudEvent> {
		await until(() => this.list.filter((e) => e.event.type === type).length >= count, { what: `cloud event ${type}` });
		return this.list.filter((e) => e.event.type === type)[count - 1]!.event;
	}
}

test("cloud_get_binding and the documented init errors (-EACCES, -EINVAL, -ENOMEM)", () => {
	assert.equal(cloudGetBinding("AWS_IOT"), undefined);
	assert.equal(cloudInit(undefined, () => undefined), -Errno.ENOTSUP);
	const backend = backendFor({ clientIdSource: "runtime" });
	assert.equal(backend.config.name, "NRF_CLOUD");
	assert.equal(cloudInit(backend, null as never), -Errno.EINVAL);
	assert.equal(cloudInit(backend, () => undefined), -Errno.EINVAL, "the run-time client ID is missing");
	backend.config.id = "x".repeat(65);
	assert.equal(cloudInit(backend, () => undefined), -Errno.ENOMEM);
	backend.config.id = "my-device";
	assert.equal(cloudInit(backend, () => undefined), 0);
	assert.equal(cloudInit(backend, () => undefined), -Errno.EACCES);
	assert.equal(cloudUninit(backend), 0);
	assert.equal(cloudKeepaliveTimeLeft(backend), SYS_FOREVER_MS);
	assert.equal(cloudEpSubscriptionsAdd(backend, [{ type: CloudEndpointType.MSG }]), -Errno.ENOTSUP);
	assert.equal(cloudEpSubscriptionsRemove(backend, []), -Errno.ENOTSUP);
	assert.equal(cloudUserDataSet(backend, null), -Errno.EINVAL);
});

test("connect results: not initialized, invalid backend, already connected", async () => {
	const backend = backendFor();
	assert.equal(await cloudConnect(backend), CloudConnectResult.ERR_NOT_INITD);
	assert.equal(await cloudConnect(undefined), CloudConnectResult.ERR_INVALID_PARAM);
	peer.policy = { connack: { returnCode: 0, sessionPresent: false }, shadow: { desired: pairedDesired() }, ackPublishes: true };
	const events = new Events();
	assert.equal(cloudInit(backend, events.handler), 0);
	assert.equal(await cloudConnect(backend), CloudConnectResult.SUCCESS);
	assert.equal(await cloudConnect(backend), CloudConnectResult.ERR_ALREADY_CONNECTED);
	await events.waitFor(CloudEventType.READY);
	assert.equal(cloudDisconnect(backend), 0);
	const down = await events.waitFor(CloudEventType.DISCONNECTED);
	assert.equal(down.err, CloudDisconnectReason.USER_REQUEST);
});

test("events of an unassociated device, translated; sends to MSG and STATE (V14, V15); received data as DATA_RECEIVED", async () => {
	peer.policy = { connack: { returnCode: 0, sessionPresent: false }, shadow: UNASSOCIATED_SHADOW, ackPublishes: true };
	const backend = backendFor();
	const events = new Events();
	assert.equal(cloudUserDataSet(backend, { app: 1 }), 0);
	assert.equal(cloudInit(backend, events.handler), 0);
	const index = peer.broker.connections.length;
	await cloudConnect(backend);
	await events.waitFor(CloudEventType.PAIR_REQUEST);
	const connection = await peer.connection(index);
	peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/update/delta`, JSON.stringify({ state: pairedDesired() }));
	await events.waitFor(CloudEventType.READY);
	assert.deepEqual(events.types(), [CloudEventType.CONNECTING, CloudEventType.CONNECTED, CloudEventType.PAIR_REQUEST, CloudEventType.PAIR_DONE, CloudEventType.READY]);
	assert.equal(events.list[0]!.event.err, 0);
	assert.equal(events.list[1]!.event.persistentSession, false);
	assert.deepEqual(events.list[0]!.userData, { app: 1 });
	// V14: cloud_client's message goes to d2c for NRF_CLOUD.
	const hello = V14_HELLO;
	assert.equal(cloudSend(backend, { buf: hello, qos: CloudQos.AT_MOST_ONCE, endpoint: { type: CloudEndpointType.MSG } }), 0);
	// V15: a device-simulator style initial shadow update goes to the shadow.
	const initial = V15_INITIAL;
	assert.equal(cloudSend(backend, { buf: initial, qos: CloudQos.AT_MOST_ONCE, endpoint: { type: CloudEndpointType.STATE } }), 0);
	assert.equal(cloudSend(backend, { buf: "x", qos: CloudQos.EXACTLY_ONCE, endpoint: { type: CloudEndpointType.MSG } }), -Errno.EINVAL);
	assert.equal(cloudSend(backend, { buf: "x", qos: 0, endpoint: { type: CloudEndpointType.MSG, str: "custom/topic" } }), -Errno.ENOTSUP);
	assert.equal(cloudSend(backend, { buf: "x", qos: 0, endpoint: { type: CloudEndpointType.PAIR } }), 0);
	assert.equal(cloudSend(backend, null as never), -Errno.EINVAL);
	await until(() => publishes(connection).some((p) => p.topic === D2C) && publishes(connection).some((p) => text(p.payload) === initial), { what: "sends" });
	const d2c = publishes(connection).find((p) => p.topic === D2C)!;
	assert.deepEqual([text(d2c.payload), d2c.qos], [hello, 0]);
	const state = publishes(connection).find((p) => text(p.payload) === initial)!;
	assert.deepEqual([state.topic, state.qos], [`$aws/things/${DEVICE_ID}/shadow/update`, 1]);
	peer.publish(connection, C2D, "hello device");
	const received = await events.waitFor(CloudEventType.DATA_RECEIVED);
	assert.equal(text(received.msg!.buf), "hello device");
	assert.deepEqual(received.msg!.endpoint, { type: CloudEndpointType.MSG, str: C2D });
	assert.equal(cloudPing(backend), 0);
	assert.equal(cloudInput(backend), 0);
	cloudDisconnect(backend);
	await events.waitFor(CloudEventType.DISCONNECTED);
});

test("translation table: every library event and its Cloud API counterpart, by the numbers of docs/protocol.md (section 3.9)", () => {
	const E = SPEC_EVENT_TYPE;
	const C = SPEC_CLOUD_EVENT_TYPE;
	for (const [name, number] of Object.entries(E)) {
		const counterpart = (SPEC_CLOUD_EVENT_FOR as Record<string, keyof typeof C | undefined>)[name];
		const translated = translateEvent({ type: number, status: 0 });
		if (counterpart === undefined) assert.equal(translated, undefined, `${name} has no Cloud API event`);
		else assert.equal(translated?.type, C[counterpart], `${name} → CLOUD_EVT_${counterpart}`);
	}
	assert.deepEqual(translateEvent({ type: E.TRANSPORT_CONNECTING, status: SPEC_CONNECT_RESULT.ERR_CERT }), { type: C.CONNECTING, err: SPEC_CONNECT_RESULT.ERR_CERT });
	assert.deepEqual(translateEvent({ type: E.TRANSPORT_CONNECTED, status: 1 }), { type: C.CONNECTED, persistentSession: true });
	assert.deepEqual(translateEvent({ type: E.TRANSPORT_CONNECTED, status: 0 }), { type: C.CONNECTED, persistentSession: false });
	assert.deepEqual(translateEvent({ type: E.TRANSPORT_DISCONNECTED, status: SPEC_DISCONNECT_STATUS.INVALID_REQUEST }), { type: C.DISCONNECTED, err: SPEC_CLOUD_DISCONNECT_REASON.INVALID_REQUEST });
	assert.deepEqual(translateEvent({ type: E.ERROR, status: 5 }), { type: C.ERROR, err: 5 });
	assert.equal(translateEvent({ type: E.SENSOR_DATA_ACK, status: 0, data: new Uint8Array([1, 2]) })!.msg!.len, 2);
	const fota = translateEvent({ type: E.FOTA_DONE, status: 0, data: new Uint8Array([1, 0, 0, 0]) })!;
	assert.deepEqual([fota.type, [...fota.msg!.buf]], [C.FOTA_DONE, [1, 0, 0, 0]]);
	const rx = translateEvent({ type: E.RX_DATA, status: 0, data: new Uint8Array([104, 105]), topic: "$aws/things/x/shadow/update/delta" })!;
	// endpoint.type is CLOUD_EP_MSG even for shadow data.
	assert.deepEqual(rx.msg!.endpoint, { type: SPEC_CLOUD_ENDPOINT_TYPE.MSG, str: "$aws/things/x/shadow/update/delta" });
	assert.equal(rx.msg!.len, 2);
});
