/* Command-line options of the project's tools: `--name value` pairs. */

/** The value after `name`, or undefined when the option is absent; throws when the value is missing. */
export function option(argv: string[], name: string): string | undefined {
	const index = argv.indexOf(name);
	if (index < 0) return undefined;
	const value = argv[index + 1];
	if (value === undefined || value.startsWith("--")) throw new Error(`${name} needs a value`);
	return value;
}

/** A whole-number option from 0 to `max`. */
export function wholeNumber(argv: string[], name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
	const value = option(argv, name);
	if (value === undefined) return undefined;
	const number = Number(value);
	if (!/^\d+$/.test(value) || number > max) throw new Error(`${name} must be a whole number from 0 to ${max}`);
	return number;
}
