/* How far a device running the soak pattern got, from the lines it prints (app/sensor-soak.ts). */

export class SoakProgress {
	/** The next sequence number the pattern reported. */
	generated = 0;
	allGenerated = false;
	/** Sends the library refused (and the pattern dropped). */
	dropped = 0;
	/** It has begun sending (after its first READY, or at once after a restart). */
	generating = false;

	line(line: string): void {
		let match: RegExpExecArray | null;
		if ((match = /^soak: generated (\d+)$/.exec(line))) this.generated = Number(match[1]);
		else if ((match = /^soak: generated all (\d+)$/.exec(line))) {
			this.generated = Number(match[1]);
			this.allGenerated = true;
		}
		else if (line.startsWith("soak: drop ")) this.dropped++;
		else if (line.startsWith("soak: generating from ")) this.generating = true;
	}
}
