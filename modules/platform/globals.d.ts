/*
 * The few host services the modules use beyond ECMAScript itself. Every host of
 * this project provides them: XS hosts through their timer module, Node natively.
 */

type TimerHandle = unknown;

declare function setTimeout(callback: () => void, milliseconds: number): TimerHandle;
declare function clearTimeout(handle: TimerHandle | undefined): void;

/**
 * Native bindings in the Moddable SDK 6+ style: the host (mcconfig's xsc on the
 * device, the simulator host's own table in CI) resolves the name to a C function.
 */
declare function native(name: string): (this: unknown, ...args: any[]) => any;
declare function Native(destructorName: string): new () => object;
