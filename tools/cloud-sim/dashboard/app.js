// The local nRF Cloud dashboard: devices, association, live messages, the GPS
// track drawn from NMEA sentences, the FLIP state and FOTA: firmware upload, jobs
// for a device or a group (tag), each execution's status and download progress,
// cancelling. It talks to the REST API with the key given in the page address
// (#key=...) and listens to server-sent events for live changes.

const key = new URLSearchParams(location.hash.slice(1)).get("key") ?? "";
let selected = null;

async function api(method, path, body) {
	// FormData sets its own multipart content type; other bodies go as text
	const type = body === undefined || body instanceof FormData ? {} : { "content-type": "text/plain" };
	const response = await fetch(path, { method, headers: { authorization: `Bearer ${key}`, ...type }, body });
	const text = await response.text();
	if (!response.ok) throw new Error(text ? JSON.parse(text).message : `${response.status}`);
	return text ? JSON.parse(text) : undefined;
}

function element(tag, attributes = {}, text) {
	const node = document.createElement(tag);
	for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
	if (text !== undefined) node.textContent = text;
	return node;
}

/** Latitude and longitude of an NMEA GGA sentence, or undefined. */
export function parseGga(sentence) {
	if (typeof sentence !== "string") return undefined;
	const fields = sentence.trim().split(",");
	if (!/^\$..GGA$/.test(fields[0] ?? "") || fields.length < 6 || fields[6] === "0") return undefined;
	const angle = (value, degreeDigits, hemisphere, negative) => {
		if (!/^\d+(\.\d+)?$/.test(value ?? "")) return undefined;
		const degrees = Number(value.slice(0, degreeDigits));
		const minutes = Number(value.slice(degreeDigits));
		const result = degrees + minutes / 60;
		return hemisphere === negative ? -result : result;
	};
	const lat = angle(fields[2], 2, fields[3], "S");
	const lon = angle(fields[4], 3, fields[5], "W");
	return lat === undefined || lon === undefined ? undefined : { lat, lon };
}

async function refreshDevices() {
	const { items } = await api("GET", "/v1/devices");
	const body = document.querySelector("#devices tbody");
	body.replaceChildren();
	document.getElementById("no-devices").hidden = items.length > 0;
	for (const device of items) {
		const row = element("tr", { "data-device": device.id });
		if (device.id === selected) row.classList.add("selected");
		row.append(element("td", {}, device.id));
		row.append(element("td", { class: device.connected ? "state-connected" : "state-disconnected", "data-field": "connection" }, device.connected ? "connected" : "disconnected"));
		row.append(element("td", { "data-field": "association" }, device.associated ? "associated" : "not associated"));
		row.append(element("td", { "data-field": "tags" }, (device.tags ?? []).join(", ")));
		const action = element("button", { "data-action": device.associated ? "disassociate" : "associate" }, device.associated ? "Disassociate" : "Associate");
		action.addEventListener("click", async (event) => {
			event.stopPropagation();
			action.disabled = true;
			try {
				if (device.associated) await api("DELETE", `/v1/association/${encodeURIComponent(device.id)}`);
				else await api("PUT", `/v1/association/${encodeURIComponent(device.id)}`, device.id);
			}
			catch (error) {
				alert(error.message);
			}
			await refreshDevices();
		});
		row.append(element("td", {}).appendChild(action).parentNode);
		row.addEventListener("click", () => select(device.id));
		body.append(row);
	}
	if (selected === null && items.length > 0) select(items[0].id);
	const choice = document.getElementById("job-device");
	const chosen = choice.value;
	choice.replaceChildren(element("option", { value: "" }, "(none)"), ...items.map((d) => element("option", { value: d.id }, d.id)));
	choice.value = items.some((d) => d.id === chosen) ? chosen : "";
}

function drawTrack(points) {
	const svg = document.getElementById("track");
	svg.replaceChildren();
	const info = document.getElementById("track-info");
	if (points.length === 0) {
		info.textContent = "No GPS data.";
		return;
	}
	const lats = points.map((p) => p.lat);
	const lons = points.map((p) => p.lon);
	const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
	const spanLat = Math.max(maxLat - minLat, 1e-6);
	const spanLon = Math.max(maxLon - minLon, 1e-6);
	const x = (p) => 20 + ((p.lon - minLon) / spanLon) * 280;
	const y = (p) => 220 - ((p.lat - minLat) / spanLat) * 200;
	const ns = "http://www.w3.org/2000/svg";
	const line = document.createElementNS(ns, "polyline");
	line.setAttribute("points", points.map((p) => `${x(p).toFixed(1)},${y(p).toFixed(1)}`).join(" "));
	line.setAttribute("fill", "none");
	line.setAttribute("stroke", "#00a9ce");
	line.setAttribute("stroke-width", "2");
	svg.append(line);
	for (const p of points) {
		const dot = document.createElementNS(ns, "circle");
		dot.setAttribute("cx", x(p).toFixed(1));
		dot.setAttribute("cy", y(p).toFixed(1));
		dot.setAttribute("r", "4");
		dot.setAttribute("fill", "#ff6e00");
		dot.setAttribute("class", "gps-point");
		svg.append(dot);
	}
	const last = points[points.length - 1];
	info.textContent = `${points.length} points; last ${last.lat.toFixed(5)}, ${last.lon.toFixed(5)}`;
}

async function refreshDetail() {
	if (selected === null) return;
	document.getElementById("detail").hidden = false;
	document.getElementById("detail-id").textContent = selected;
	const { items } = await api("GET", `/v1/messages?deviceId=${encodeURIComponent(selected)}&pageLimit=1000`);
	const list = document.getElementById("messages");
	list.replaceChildren(...items.slice(-50).reverse().map((m) =>
		element("li", {}, `${m.receivedAt} ${m.direction} ${typeof m.message === "string" ? m.message : JSON.stringify(m.message)}`)));
	const points = [];
	let flip = "unknown";
	for (const m of items) {
		if (m.direction !== "d2c" || typeof m.message !== "object" || m.message === null) continue;
		if (m.message.appId === "GPS") {
			const point = parseGga(m.message.data);
			if (point) points.push(point);
		}
		else if (m.message.appId === "FLIP" && typeof m.message.data === "string") flip = m.message.data;
	}
	drawTrack(points);
	document.getElementById("flip").textContent = flip;
}

async function refreshJobs() {
	const [{ items: jobs }, { items: firmwares }] = await Promise.all([api("GET", "/v1/fota-jobs"), api("GET", "/v1/firmwares")]);
	const names = new Map(firmwares.map((f) => [f.id, `${f.type} ${f.version}`]));
	const choice = document.getElementById("job-firmware");
	const chosen = choice.value;
	choice.replaceChildren(...firmwares.map((f) => element("option", { value: f.id }, `${f.type} ${f.version} (${f.files.map((file) => file.filename).join(" + ")})`)));
	if (firmwares.some((f) => f.id === chosen)) choice.value = chosen;
	const body = document.querySelector("#jobs tbody");
	body.replaceChildren();
	document.getElementById("no-jobs").hidden = jobs.length > 0;
	for (const job of jobs) {
		for (const execution of job.executions) {
			const row = element("tr", { "data-job": job.jobId, "data-execution": execution.deviceId });
			row.append(element("td", { title: job.jobId }, job.jobId.slice(0, 8)), element("td", {}, names.get(job.firmwareId) ?? job.firmwareId),
				element("td", { "data-field": "job-status" }, job.status), element("td", {}, execution.deviceId),
				element("td", { "data-field": "status", class: `status-${execution.status}`, title: execution.statusDetail }, execution.status));
			const progress = element("progress", { max: "100", value: String(execution.progress) });
			const cell = element("td", {});
			cell.append(progress, element("span", { class: "percent", "data-field": "progress" }, `${execution.progress} %`));
			row.append(cell);
			const actions = element("td", {});
			if (job.status === "IN_PROGRESS") {
				const cancel = element("button", { "data-action": "cancel" }, "Cancel job");
				cancel.addEventListener("click", async () => {
					cancel.disabled = true;
					try {
						await api("PUT", `/v1/fota-jobs/${encodeURIComponent(job.jobId)}/cancel`);
					}
					catch (error) {
						alert(error.message);
					}
					await refreshJobs();
				});
				actions.append(cancel);
			}
			row.append(actions);
			body.append(row);
		}
	}
}

async function upload(event) {
	event.preventDefault();
	const form = event.target;
	const result = document.getElementById("upload-result");
	const data = new FormData(form);
	if (data.get("sha256") === "") data.delete("sha256");
	try {
		const firmware = await api("POST", "/v1/firmwares", data);
		result.textContent = `uploaded ${firmware.type} ${firmware.version}: ${firmware.files.map((f) => `${f.filename} (${f.size} bytes)`).join(", ")}`;
		form.reset();
		await refreshJobs();
		document.getElementById("job-firmware").value = firmware.id;
	}
	catch (error) {
		result.textContent = `refused: ${error.message}`;
	}
}

async function createJob(event) {
	event.preventDefault();
	const result = document.getElementById("job-result");
	const device = document.getElementById("job-device").value;
	const tag = document.getElementById("job-tag").value.trim();
	const timeout = document.getElementById("job-timeout").value;
	const body = { bundleId: document.getElementById("job-firmware").value };
	if (device) body.deviceIds = [device];
	if (tag) body.tags = [tag];
	if (timeout !== "") body.executionTimeoutSeconds = Number(timeout);
	try {
		const job = await api("POST", "/v1/fota-jobs", JSON.stringify(body));
		result.textContent = `job ${job.jobId.slice(0, 8)} for ${job.deviceIds.join(", ")}`;
		await refreshJobs();
	}
	catch (error) {
		result.textContent = `refused: ${error.message}`;
	}
}

function select(id) {
	selected = id;
	for (const row of document.querySelectorAll("tr[data-device]")) row.classList.toggle("selected", row.dataset.device === id);
	refreshDetail().catch(console.error);
}

async function start() {
	const account = await api("GET", "/v1/account");
	document.getElementById("tenant").textContent = `tenant ${account.tenantId}`;
	document.getElementById("upload-form").addEventListener("submit", (event) => { upload(event).catch(console.error); });
	document.getElementById("job-form").addEventListener("submit", (event) => { createJob(event).catch(console.error); });
	await Promise.all([refreshDevices(), refreshJobs()]);
	const events = new EventSource(`/v1/events?apiKey=${encodeURIComponent(key)}`);
	const live = document.getElementById("live");
	events.onopen = () => { live.textContent = "live"; };
	events.onerror = () => { live.textContent = "offline"; };
	events.addEventListener("device", () => { refreshDevices().then(refreshDetail).catch(console.error); });
	events.addEventListener("message", (event) => {
		if (JSON.parse(event.data).deviceId === selected) refreshDetail().catch(console.error);
	});
	events.addEventListener("execution", () => { refreshJobs().catch(console.error); });
}

start().catch((error) => {
	document.body.prepend(element("p", { class: "hint" }, `Cannot reach the API: ${error.message}. Open the address cloud-sim printed (it carries #key=...).`));
});
