/*
 * The checker of XS suite reports (tests/support/xs-suite.ts) on reports
 * written by hand: it must refuse every way a suite can look green without
 * having run what its wrapper expects.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import type { SimRun } from "./support/sim.js";
import { assertSuite, outputOf, parseSuiteOutput, suiteProblems } from "./support/xs-suite.js";

const EXPECTED = ["first: with a colon", "second"];

function run(stdout: string, status = 0): SimRun {
	return { status, signal: null, stdout, stderr: "" };
}

const GOOD = "# demo: 2 tests\nprinted by the first\nok first: with a colon\nok second\n2 passed, 0 failed\n";

test("a complete report passes, with each test's printed lines", () => {
	const report = assertSuite(run(GOOD), EXPECTED);
	assert.deepEqual(report.tests.map((t) => [t.name, t.passed]), [["first: with a colon", true], ["second", true]]);
	assert.deepEqual(outputOf(report, "first: with a colon"), ["printed by the first"]);
	assert.deepEqual(outputOf(report, "second"), []);
});

test("a failed test is a failure, with its error, whatever the exit status", () => {
	const stdout = "# demo: 2 tests\nok first: with a colon\nnot ok second # AssertionError: 1 !== 2\n1 passed, 1 failed\n";
	assert.deepEqual(suiteProblems(parseSuiteOutput(stdout), EXPECTED), ["failed: second: AssertionError: 1 !== 2"]);
	assert.throws(() => assertSuite(run(stdout), EXPECTED), /failed: second: AssertionError: 1 !== 2/);
});

test("a test the wrapper expects and the suite did not run is a failure", () => {
	const stdout = "# demo: 1 tests\nok second\n1 passed, 0 failed\n";
	assert.deepEqual(suiteProblems(parseSuiteOutput(stdout), EXPECTED), ["missing: first: with a colon"]);
});

test("zero tests passed is a failure", () => {
	const stdout = "# demo: 0 tests\n0 passed, 0 failed\n";
	const problems = suiteProblems(parseSuiteOutput(stdout), []);
	assert.deepEqual(problems, ["no test passed"]);
});

test("a suite that stops half way, or never starts, is a failure", () => {
	assert.deepEqual(suiteProblems(parseSuiteOutput("# demo: 2 tests\nok first: with a colon\n"), EXPECTED), [
		"the suite declared 2 tests and reported 1",
		"no \"<n> passed, <m> failed\" line: the suite did not finish",
		"missing: second",
	]);
	assert.ok(suiteProblems(parseSuiteOutput("SyntaxError: unexpected token\n"), EXPECTED).includes("no \"# <suite>: <count> tests\" line: the suite did not start"));
});

test("a test the wrapper does not know of, a summary that disagrees, or another exit status is a failure", () => {
	assert.deepEqual(suiteProblems(parseSuiteOutput(GOOD.replace("ok second\n", "ok second\nok third\n").replace("2 tests", "3 tests").replace("2 passed", "3 passed")), EXPECTED),
		["not expected by the wrapper: third"]);
	assert.deepEqual(suiteProblems(parseSuiteOutput(GOOD.replace("2 passed", "3 passed")), EXPECTED),
		["the summary says 3 passed, 0 failed; the result lines say 2 and 0"]);
	assert.throws(() => assertSuite(run(GOOD, 1), EXPECTED), /exit status 1 instead of 0/);
	assert.doesNotThrow(() => assertSuite(run(GOOD, 75), EXPECTED, { status: 75 }));
});
