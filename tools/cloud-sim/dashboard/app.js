// The local nRF Cloud dashboard, the window on a fleet: the device table
// (devices.js), every device's track on the map (map.js), the live event log
// (event-log.js), the selected device's newest messages, and FOTA (fota.js).
// It reads the REST API with the key of the page address (#key=...) and
// follows the event stream for live changes.

import { api, coalesce, element, key } from "./api.js";
import { renderDevices } from "./devices.js";
import { logEvent } from "./event-log.js";
import { createJob, offerDevices, refreshJobs, upload } from "./fota.js";
import { colourFor, drawMap } from "./map.js";

/** The devices as the REST API lists them, by id, and each one's track. */
const devices = new Map();
const tracks = new Map();
let selected = null;

function colour(id) {
	return colourFor([...devices.keys()].sort().indexOf(id));
}

function sortedDevices() {
	return [...devices.values()].sort((a, b) => a.id.localeCompare(b.id));
}

function render() {
	renderDevices(sortedDevices(), { selected, colour, onSelect: select, changed: refreshDevices });
	offerDevices(sortedDevices().map((d) => d.id));
}

function redrawMap() {
	drawMap(document.getElementById("map"), sortedDevices().map((d) => ({ id: d.id, colour: colour(d.id), points: tracks.get(d.id) ?? [] })));
}

async function loadTrack(id) {
	const { items } = await api("GET", `/v1/devices/${encodeURIComponent(id)}/track`);
	tracks.set(id, items);
}

async function refreshDevices() {
	const { items } = await api("GET", "/v1/devices");
	const known = new Set(items.map((d) => d.id));
	for (const id of devices.keys()) if (!known.has(id)) { devices.delete(id); tracks.delete(id); }
	for (const device of items) devices.set(device.id, device);
	await Promise.all(items.filter((d) => !tracks.has(d.id)).map((d) => loadTrack(d.id)));
	if (selected !== null && !known.has(selected)) selected = null;
	render();
	redrawMap();
	if (selected === null && items.length > 0) select(items[0].id);
}

async function refreshMessages() {
	if (selected === null) {
		document.getElementById("detail").hidden = true;
		return;
	}
	document.getElementById("detail").hidden = false;
	document.getElementById("detail-id").textContent = selected;
	const { items } = await api("GET", `/v1/devices/${encodeURIComponent(selected)}/messages?pageLimit=50`);
	document.getElementById("messages").replaceChildren(...items.map((m) =>
		element("li", { "data-direction": m.direction }, `${m.receivedAt} ${m.direction} ${typeof m.message === "string" ? m.message : JSON.stringify(m.message)}`)));
}

function select(id) {
	selected = id;
	for (const row of document.querySelectorAll("tr[data-device]")) row.classList.toggle("selected", row.dataset.device === id);
	refreshMessages().catch(console.error);
}

/** An activity change: the device's row and, with a new position, its track. */
function activityChanged({ id, activity, point }) {
	const device = devices.get(id);
	if (!device) {
		laterDevices();
		return;
	}
	device.activity = activity;
	if (point) (tracks.get(id) ?? tracks.set(id, []).get(id)).push(point);
	laterRender();
}

const laterDevices = coalesce(refreshDevices, 150);
const laterMessages = coalesce(refreshMessages, 150);
const laterJobs = coalesce(refreshJobs, 150);
const laterRender = coalesce(() => {
	render();
	redrawMap();
}, 100);

async function start() {
	const account = await api("GET", "/v1/account");
	document.getElementById("tenant").textContent = `tenant ${account.tenantId}`;
	document.getElementById("upload-form").addEventListener("submit", (event) => { upload(event).catch(console.error); });
	document.getElementById("job-form").addEventListener("submit", (event) => { createJob(event).catch(console.error); });
	window.addEventListener("resize", redrawMap);
	await Promise.all([refreshDevices(), refreshJobs()]);
	const events = new EventSource(`/v1/events?apiKey=${encodeURIComponent(key)}`);
	const live = document.getElementById("live");
	events.onopen = () => {
		live.textContent = "live";
		// what came while the stream was not there: the tracks are read again
		tracks.clear();
		laterDevices();
	};
	events.onerror = () => { live.textContent = "offline"; };
	const on = (kind, handle) => events.addEventListener(kind, (event) => {
		const data = JSON.parse(event.data);
		logEvent(kind, data);
		handle(data);
	});
	on("device", () => laterDevices());
	on("connection", () => laterDevices());
	on("association", () => laterDevices());
	on("message", (message) => { if (message.deviceId === selected) laterMessages(); });
	on("activity", activityChanged);
	on("execution", () => laterJobs());
}

start().catch((error) => {
	document.body.prepend(element("p", { class: "hint" }, `Cannot reach the API: ${error.message}. Open the address cloud-sim printed (it carries #key=...).`));
});
