// The live event log: connections, disconnections, association, messages and
// FOTA progress as the event stream announces them, newest first, bounded.

import { element, timeOfDay } from "./api.js";

const MAX_ENTRIES = 200;

function summary(message) {
	if (typeof message !== "object" || message === null) return String(message).slice(0, 80);
	if (typeof message.appId === "string") {
		const data = typeof message.data === "string" ? message.data : JSON.stringify(message.data);
		return `${message.appId} ${message.messageType ?? ""} ${String(data).slice(0, 60)}`;
	}
	return JSON.stringify(message).slice(0, 80);
}

/** The log line of an event of the stream, or undefined for kinds the log does not show. */
export function describe(kind, data) {
	switch (kind) {
		case "connection": return { id: data.id, text: data.connected ? "connected" : "disconnected" };
		case "association": return { id: data.id, text: data.associated ? "associated" : "disassociated" };
		case "message": return { id: data.deviceId, text: `${data.direction} ${summary(data.message)}` };
		case "execution": return { id: data.deviceId, text: `FOTA ${data.jobId.slice(0, 8)} ${data.status} ${data.progress} %` };
		default: return undefined;
	}
}

export function logEvent(kind, data) {
	const line = describe(kind, data);
	if (!line) return;
	const list = document.getElementById("event-log");
	const entry = element("li", { "data-kind": kind, "data-device": line.id ?? "" });
	entry.append(element("time", {}, timeOfDay(new Date().toISOString())), element("span", { class: `kind kind-${kind}` }, kind),
		element("span", { class: "device" }, line.id ?? ""), element("span", {}, line.text));
	list.prepend(entry);
	while (list.childElementCount > MAX_ENTRIES) list.lastElementChild.remove();
	document.getElementById("no-events").hidden = true;
}
