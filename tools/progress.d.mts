/* Types of tools/progress.mjs for the TypeScript tools. */
import type { Writable } from "node:stream";

export declare function lastLine(text: string, room?: number): string;

export declare class StepLine {
	constructor(prefix: string, label: string, options?: { out?: Writable & { columns?: number; isTTY?: boolean }; tty?: boolean });
	readonly seconds: number;
	update(detail?: string, fraction?: number): void;
	done(result?: string): void;
	fail(why: string): void;
}
