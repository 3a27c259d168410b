/*
 * Reads the report an XS suite prints (tests/xs/harness.ts) and checks it for
 * the Node wrappers: every test the wrapper expects ran and passed, nothing
 * failed, nothing ran that the wrapper does not know of, and the suite got to
 * its summary. A suite that passed zero tests, lost a test, or stopped half
 * way fails here, whatever its exit status says.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { root, type SimRun } from "./sim.js";

export interface SuiteTest {
	name: string;
	passed: boolean;
	/** Why it failed, as the harness printed it. */
	error: string | undefined;
	/** The lines the test body printed (console, trace), before its result line. */
	output: string[];
}

export interface SuiteReport {
	/** From the "# <suite>: <count> tests" line the harness starts with. */
	suite: string | undefined;
	declared: number | undefined;
	tests: SuiteTest[];
	/** From the "<passed> passed, <failed> failed" line it ends with. */
	summary: { passed: number; failed: number } | undefined;
	/** Lines after the last result that are not the summary. */
	trailing: string[];
}

/** The compiled suite tests/xs/<name>.suite.ts. */
export function suiteFile(name: string): string {
	return join(root, "build", "tests", "xs", `${name}.suite.js`);
}

export function parseSuiteOutput(stdout: string): SuiteReport {
	const report: SuiteReport = { suite: undefined, declared: undefined, tests: [], summary: undefined, trailing: [] };
	let pending: string[] = [];
	const lines = stdout.split("\n");
	if (lines.at(-1) === "") lines.pop();
	for (const line of lines) {
		const header = /^# (.+): (\d+) tests$/.exec(line);
		const failed = /^not ok (.+?) # (.*)$/.exec(line);
		const passed = /^ok (.+)$/.exec(line);
		const summary = /^(\d+) passed, (\d+) failed$/.exec(line);
		if (header && report.suite === undefined) {
			report.suite = header[1]!;
			report.declared = Number(header[2]);
		}
		else if (failed) {
			report.tests.push({ name: failed[1]!, passed: false, error: failed[2]!, output: pending });
			pending = [];
		}
		else if (passed) {
			report.tests.push({ name: passed[1]!, passed: true, error: undefined, output: pending });
			pending = [];
		}
		else if (summary) report.summary = { passed: Number(summary[1]), failed: Number(summary[2]) };
		else pending.push(line);
	}
	report.trailing = pending;
	return report;
}

/** What is wrong with a report, given the test names the wrapper expects; empty when nothing is. */
export function suiteProblems(report: SuiteReport, expected: readonly string[]): string[] {
	const problems: string[] = [];
	const passed = report.tests.filter((t) => t.passed);
	const failed = report.tests.filter((t) => !t.passed);
	if (report.suite === undefined) problems.push("no \"# <suite>: <count> tests\" line: the suite did not start");
	else if (report.declared !== report.tests.length) problems.push(`the suite declared ${report.declared} tests and reported ${report.tests.length}`);
	if (report.summary === undefined) problems.push("no \"<n> passed, <m> failed\" line: the suite did not finish");
	else if (report.summary.passed !== passed.length || report.summary.failed !== failed.length)
		problems.push(`the summary says ${report.summary.passed} passed, ${report.summary.failed} failed; the result lines say ${passed.length} and ${failed.length}`);
	for (const test of failed) problems.push(`failed: ${test.name}: ${test.error}`);
	if (passed.length === 0) problems.push("no test passed");
	const names = new Set(report.tests.map((t) => t.name));
	for (const name of expected) if (!names.has(name)) problems.push(`missing: ${name}`);
	const known = new Set(expected);
	for (const test of report.tests) if (!known.has(test.name)) problems.push(`not expected by the wrapper: ${test.name}`);
	if (new Set(expected).size !== expected.length) problems.push("the wrapper expects a name twice");
	return problems;
}

/**
 * Asserts that a run of a suite passed every expected test and exited with
 * `status` (0 unless given); returns the parsed report for further checks.
 */
export function assertSuite(run: SimRun, expected: readonly string[], options: { status?: number; label?: string } = {}): SuiteReport {
	const report = parseSuiteOutput(run.stdout);
	const problems = suiteProblems(report, expected);
	const status = options.status ?? 0;
	if (run.status !== status) problems.push(`exit status ${run.status ?? run.signal} instead of ${status}`);
	if (problems.length > 0) {
		const label = options.label ?? report.suite ?? "XS suite";
		assert.fail(`${label}:\n  ${problems.join("\n  ")}\n--- stdout ---\n${run.stdout}--- stderr ---\n${run.stderr.slice(-4000)}`);
	}
	return report;
}

/** The lines a test printed; fails when the report has no test of that name. */
export function outputOf(report: SuiteReport, name: string): string[] {
	const test = report.tests.find((t) => t.name === name);
	assert.ok(test, `no test "${name}" in the report`);
	return test.output;
}
