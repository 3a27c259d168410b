/* Throughput measurement shared by the benchmarks: operations per second, best of several rounds. */

export interface Measured {
	opsPerSecond: number;
}

/** Runs `body(batch)` repeatedly for about `ms` milliseconds; returns operations per second. */
export function measure(body: (batch: number) => void, ms: number, batch = 1000): number {
	body(batch);	// warm up
	let operations = 0;
	const start = process.hrtime.bigint();
	const end = start + BigInt(ms) * 1000000n;
	let now = start;
	while (now < end) {
		body(batch);
		operations += batch;
		now = process.hrtime.bigint();
	}
	return operations / (Number(now - start) / 1e9);
}

/** Alternates the contenders for `rounds` rounds and keeps each one's best figure. */
export function compare(contenders: Record<string, (batch: number) => void>, ms = 250, rounds = 5): Record<string, number> {
	const best: Record<string, number> = {};
	for (let round = 0; round < rounds; round++) {
		for (const [name, body] of Object.entries(contenders)) best[name] = Math.max(best[name] ?? 0, measure(body, ms));
	}
	return best;
}

export function formatRate(value: number): string {
	if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M/s`;
	if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k/s`;
	return `${value.toFixed(0)} /s`;
}

export function table(header: string[], rows: string[][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
	return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
