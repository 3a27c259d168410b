/*
 * What hosts/sim/prelude.js defines for apps beyond modules/platform/globals.d.ts
 * (setTimeout, clearTimeout, native, Native): the types an app built with this
 * host by mcconfig (x-cli-lin) sees. Under Node and in the project's own tsc
 * build, the DOM and Node typings declare the same names.
 */

declare const console: {
	log(...values: unknown[]): void;
	info(...values: unknown[]): void;
	debug(...values: unknown[]): void;
	warn(...values: unknown[]): void;
	error(...values: unknown[]): void;
};

declare function setInterval(callback: () => void, milliseconds: number): TimerHandle;
declare function clearInterval(handle: TimerHandle | undefined): void;
