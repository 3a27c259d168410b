/*
 * Globals of the simulator host: Moddable's Timer API with setTimeout and
 * setInterval on top, trace() and console, over the host functions of host.c.
 *
 * One text for both engines. The xsnap build runs it as a script before the
 * app's main module, after installing native() and Native() as globals that
 * look names up in the host's table (below, a cache in front of that lookup).
 * The Moddable build (x-cli-lin) links it as the module "sim/prelude", which the
 * host imports before "main"; there mcconfig's xsc binds each native() below to
 * its C function at build time, so each one is in the form xsc optimizes: a
 * function whose whole body is `return native("name").call(this, ...)`.
 */
(function (global) {
	"use strict";
	const lookupNative = global.native;
	if (typeof lookupNative === "function") {
		/* xsnap build: resolve each name once. */
		const nativeCache = new Map();
		const cachedNative = function (name) {
			let fn = nativeCache.get(name);
			if (fn === undefined) {
				fn = lookupNative(name);
				nativeCache.set(name, fn);
			}
			return fn;
		};
		Object.defineProperty(global, "native", { value: cachedNative, writable: true, configurable: true });
	}
	/* Function expressions: xsc binds a declaration inside a function only when its statement runs. */
	const now = function () {
		return native("xs_sim_now").call(this);
	};
	const arm = function (deadline) {
		native("xs_sim_timer_arm").call(this, deadline);
	};
	const write = function (fd, text) {
		native("xs_sim_write").call(this, fd, text);
	};
	const sleep = function (milliseconds) {
		native("xs_sim_sleep").call(this, milliseconds);
	};
	const installTimers = function (fire) {
		native("xs_sim_timers_install").call(this, fire);
	};

	/* Pending timers, soonest first; equal deadlines keep their order. */
	const pending = [];
	let sequence = 0;

	function insert(timer) {
		let i = pending.length;
		while (i > 0 && pending[i - 1].deadline > timer.deadline) i--;
		pending.splice(i, 0, timer);
	}
	function remove(timer) {
		const i = pending.indexOf(timer);
		if (i >= 0) pending.splice(i, 1);
	}
	function rearm() {
		arm(pending.length ? pending[0].deadline : -1);
	}
	function checkDelay(value, name) {
		const delay = value === undefined ? 0 : Number(value);
		if (!(delay >= 0)) throw new RangeError(`${name} must be a non-negative number`);
		return delay;
	}

	class Timer {
		#callback;
		constructor(callback, delay, interval) {
			if (typeof callback !== "function") throw new TypeError("timer callback must be a function");
			this.#callback = callback;
			this.interval = interval;
			this.deadline = now() + delay;
			this.id = ++sequence;
			this.active = true;
		}
		fire() {
			this.#callback.call(this, this);
		}
		static set(callback, delay, repeat) {
			const timer = new Timer(callback, checkDelay(delay, "delay"), repeat === undefined ? undefined : checkDelay(repeat, "repeat"));
			insert(timer);
			rearm();
			return timer;
		}
		static repeat(callback, interval) {
			const every = checkDelay(interval, "interval");
			const timer = new Timer(callback, every, every);
			insert(timer);
			rearm();
			return timer;
		}
		static schedule(timer, delay, repeat) {
			if (!(timer instanceof Timer)) throw new TypeError("not a timer");
			remove(timer);
			if (delay === undefined) {
				timer.active = false;
			}
			else {
				timer.deadline = now() + checkDelay(delay, "delay");
				timer.interval = repeat === undefined ? undefined : checkDelay(repeat, "repeat");
				timer.active = true;
				insert(timer);
			}
			rearm();
		}
		static clear(timer) {
			if (timer === undefined || timer === null) return;
			if (!(timer instanceof Timer)) throw new TypeError("not a timer");
			timer.active = false;
			remove(timer);
			rearm();
		}
		static delay(milliseconds) {
			sleep(checkDelay(milliseconds, "delay"));
		}
	}
	Object.freeze(Timer.prototype);

	/* Called by the host's run loop when the soonest deadline has passed. */
	function fire() {
		const time = now();
		while (pending.length && pending[0].deadline <= time) {
			const timer = pending.shift();
			if (timer.interval !== undefined) {
				timer.deadline = Math.max(timer.deadline + timer.interval, time);
				insert(timer);
			}
			else timer.active = false;
			try {
				timer.fire();
			}
			finally {
				rearm();
			}
		}
		rearm();
	}
	installTimers(fire);

	function setTimeout(callback, delay, ...args) {
		return Timer.set(args.length ? () => callback(...args) : callback, delay);
	}
	function setInterval(callback, delay, ...args) {
		return Timer.repeat(args.length ? () => callback(...args) : callback, delay);
	}

	function format(values) {
		let line = "";
		for (let i = 0; i < values.length; i++) {
			const value = values[i];
			if (i) line += " ";
			if (typeof value === "string") line += value;
			else if (value instanceof Error) line += value.stack ? `${value}\n${value.stack}` : String(value);
			else if (typeof value === "object" && value !== null) {
				try { line += JSON.stringify(value); } catch { line += String(value); }
			}
			else line += String(value);
		}
		return line;
	}
	const console = Object.freeze({
		log: (...values) => write(1, format(values) + "\n"),
		info: (...values) => write(1, format(values) + "\n"),
		debug: (...values) => write(1, format(values) + "\n"),
		warn: (...values) => write(2, format(values) + "\n"),
		error: (...values) => write(2, format(values) + "\n"),
	});

	Object.defineProperties(global, {
		Timer: { value: Timer, writable: true, configurable: true },
		setTimeout: { value: setTimeout, writable: true, configurable: true },
		clearTimeout: { value: Timer.clear, writable: true, configurable: true },
		setInterval: { value: setInterval, writable: true, configurable: true },
		clearInterval: { value: Timer.clear, writable: true, configurable: true },
		trace: { value: (...values) => write(1, format(values)), writable: true, configurable: true },
		console: { value: console, writable: true, configurable: true },
	});
})(globalThis);
