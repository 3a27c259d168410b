/*
 * What the fleet soak costs the machine, sampled every few seconds while it
 * runs: the 1-minute load average, and the resident memory of the XS hosts
 * (all together and the largest one), of the cloud process and of the harness.
 * It reads /proc; where there is none the figures stay 0.
 */

import { readFileSync } from "node:fs";
import { loadavg } from "node:os";

export interface ResourcePeaks {
	load: number;
	/** kB, summed over the hosts sampled at once. */
	hostsRss: number;
	/** kB, the largest single host. */
	hostRss: number;
	cloudRss: number;
	harnessRss: number;
}

/** Resident set size of a process in kB (0 when it is gone or there is no /proc). */
function rss(pid: number | undefined): number {
	if (pid === undefined) return 0;
	try {
		const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
		return match ? Number(match[1]) : 0;
	}
	catch {
		return 0;
	}
}

export class ResourceSampler {
	readonly peaks: ResourcePeaks = { load: 0, hostsRss: 0, hostRss: 0, cloudRss: 0, harnessRss: 0 };
	readonly #timer: ReturnType<typeof setInterval>;

	constructor(hosts: () => Array<number | undefined>, cloud: () => number | undefined, everyMs = 2000) {
		const sample = () => {
			const p = this.peaks;
			p.load = Math.max(p.load, loadavg()[0] ?? 0);
			let sum = 0;
			for (const pid of hosts()) {
				const kb = rss(pid);
				sum += kb;
				p.hostRss = Math.max(p.hostRss, kb);
			}
			p.hostsRss = Math.max(p.hostsRss, sum);
			p.cloudRss = Math.max(p.cloudRss, rss(cloud()));
			p.harnessRss = Math.max(p.harnessRss, Math.round(process.memoryUsage().rss / 1024));
		};
		sample();
		this.#timer = setInterval(sample, everyMs);
		this.#timer.unref();
	}

	stop(): ResourcePeaks {
		clearInterval(this.#timer);
		return this.peaks;
	}
}

export function describePeaks(p: ResourcePeaks): string {
	const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
	return `peak 1-minute load average ${p.load.toFixed(2)}; peak resident memory: XS hosts ${mb(p.hostsRss)} together (${mb(p.hostRss)} the largest), cloud ${mb(p.cloudRss)}, harness ${mb(p.harnessRss)}`;
}
