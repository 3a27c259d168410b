// The fleet table: per device its connection, association (and the Associate
// button for a device waiting for it), firmware version (the shadow's
// reported device.deviceInfo.appVersion), last position, FLIP state, LED state
// with the LED button, last button press and tags.

import { api, element, timeOfDay } from "./api.js";

/** The LED state a toggle starts from: the device's last report, else the state last asked of it. */
export function knownLed(activity) {
	if (activity?.led) return activity.led.state;
	if (activity?.ledRequested) return activity.ledRequested.state;
	return undefined;
}

/** The c2d message that toggles a device's LED (off when unknown: the toggle turns it on). */
export function ledToggleMessage(activity) {
	return { appId: "LED", messageType: "CFG_SET", data: { state: knownLed(activity) === 1 ? 0 : 1 } };
}

function ledText(activity) {
	const led = activity?.led;
	const asked = activity?.ledRequested;
	const text = led ? (led.state === 1 ? "on" : "off") : "unknown";
	// an answer not yet come for the last request
	if (asked && (!led || Date.parse(asked.sentAt) > Date.parse(led.receivedAt))) return `${text} (asked ${asked.state === 1 ? "on" : "off"})`;
	return text;
}

function associationText(device) {
	if (device.associated) return "associated";
	return device.connected ? "waiting for association" : "not associated";
}

function button(action, label, onClick) {
	const node = element("button", { "data-action": action }, label);
	node.addEventListener("click", async (event) => {
		event.stopPropagation();
		node.disabled = true;
		try {
			await onClick();
		}
		catch (error) {
			alert(error.message);
		}
		finally {
			node.disabled = false;
		}
	});
	return node;
}

/** Renders `devices` (the REST device views) into the table; `changed` is called after an action. */
export function renderDevices(devices, { selected, colour, onSelect, changed }) {
	const body = document.querySelector("#devices tbody");
	body.replaceChildren();
	document.getElementById("no-devices").hidden = devices.length > 0;
	for (const device of devices) {
		const activity = device.activity;
		const id = encodeURIComponent(device.id);
		const row = element("tr", { "data-device": device.id });
		if (device.id === selected) row.classList.add("selected");
		const name = element("td", { class: "device-id" });
		name.append(element("span", { class: "swatch", style: `background: ${colour(device.id)}` }), device.id);
		const position = activity?.position;
		const version = device.state?.reported?.device?.deviceInfo?.appVersion;
		row.append(
			name,
			element("td", { class: device.connected ? "state-connected" : "state-disconnected", "data-field": "connection" }, device.connected ? "connected" : "disconnected"),
			element("td", { "data-field": "association" }, associationText(device)),
			element("td", { "data-field": "version" }, typeof version === "string" ? version : "—"),
			element("td", { "data-field": "position", title: position ? `fix ${position.time}, received ${position.receivedAt}` : "" },
				position ? `${position.lat.toFixed(5)}, ${position.lon.toFixed(5)}` : "—"),
			element("td", { "data-field": "flip", class: activity?.flip?.state === "UPSIDE_DOWN" ? "flip-upside-down" : "" }, activity?.flip?.state ?? "—"),
			element("td", { "data-field": "led", class: activity?.led?.state === 1 ? "led-on" : "" }, ledText(activity)),
			element("td", { "data-field": "button" }, activity?.button ? `${activity.button.button} at ${timeOfDay(activity.button.receivedAt)}` : "—"),
			element("td", { "data-field": "tags" }, (device.tags ?? []).join(", ")),
		);
		const actions = element("td", { class: "actions" });
		if (device.associated) {
			actions.append(button("led", knownLed(activity) === 1 ? "LED off" : "LED on", async () => {
				await api("POST", `/v1/devices/${id}/messages`, JSON.stringify(ledToggleMessage(activity)));
				await changed();
			}));
			actions.append(button("disassociate", "Disassociate", async () => {
				await api("DELETE", `/v1/association/${id}`);
				await changed();
			}));
		}
		else {
			// the hardware ID (the device ID) is the code a local cloud takes from its operator
			actions.append(button("associate", "Associate", async () => {
				await api("PUT", `/v1/association/${id}`, device.id);
				await changed();
			}));
		}
		row.append(actions);
		row.addEventListener("click", () => onSelect(device.id));
		body.append(row);
	}
}
