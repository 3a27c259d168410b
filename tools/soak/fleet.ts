/* The fleet soak: written next. */
export async function fleetMain(_argv: string[]): Promise<number> {
	throw new Error("--fleet is not built yet");
}
