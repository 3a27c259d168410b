/* The soak's table: one column per run, the rows the soak measures. */

import type { SoakResult } from "./run.js";

export interface ReportColumn {
	title: string;
	result: SoakResult;
}

function seconds(ms: number): string {
	return `${(ms / 1000).toFixed(1)} s`;
}

export function soakTable(columns: readonly ReportColumn[]): string {
	const rows: Array<[string, (r: SoakResult) => string]> = [
		["sent", (r) => String(r.sent)],
		["stored", (r) => String(r.stored)],
		["lost", (r) => String(r.lost)],
		["  refused at send, dropped", (r) => String(r.dropped)],
		["  in flight at a cut or kill", (r) => String(Math.max(0, r.lost - r.dropped))],
		["duplicates", (r) => String(r.duplicates)],
		["cuts", (r) => String(r.cuts)],
		["cloud restarts (SIGKILL)", (r) => String(r.cloudRestarts)],
		["device restarts (SIGKILL)", (r) => String(r.deviceRestarts)],
		["duration (READY to last stored)", (r) => seconds(r.durationMs)],
	];
	const header = ["", ...columns.map((c) => c.title)];
	const body = rows.map(([name, value]) => [name, ...columns.map((c) => value(c.result))]);
	const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => row[i]!.length)));
	const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
	return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
