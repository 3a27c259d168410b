// FOTA on the dashboard: firmware upload (one file, or the S0/S1 pair of a BOOT
// update), jobs for a device or a group (tag), each execution's status and
// download progress, and cancelling.

import { api, element } from "./api.js";

export async function refreshJobs() {
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

export async function upload(event) {
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

export async function createJob(event) {
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

/** The devices a job can be made for. */
export function offerDevices(ids) {
	const choice = document.getElementById("job-device");
	const chosen = choice.value;
	choice.replaceChildren(element("option", { value: "" }, "(none)"), ...ids.map((id) => element("option", { value: id }, id)));
	choice.value = ids.includes(chosen) ? chosen : "";
}
