/*
 * The few host services the modules use beyond ECMAScript itself. Every host of
 * this project provides them: XS hosts through their timer module, Node natively.
 */

type TimerHandle = unknown;

declare function setTimeout(callback: () => void, milliseconds: number): TimerHandle;
declare function clearTimeout(handle: TimerHandle | undefined): void;
