// Reads a JUnit XML document back with an independent XML parser (Python's xml.etree.ElementTree, a strict
// parser that rejects malformed XML), so the tests check what a CI system would actually see.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface ParsedCase {
  classname: string;
  name: string;
  outcome: 'passed' | 'failure' | 'error' | 'skipped';
  message: string | null;
  text: string | null;
}

export interface ParsedSuite {
  name: string;
  counts: { tests: number; failures: number; errors: number; skipped: number };
  properties: Record<string, string>;
  cases: ParsedCase[];
}

const SCRIPT = `
import json, sys
import xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
out = []
for suite in suites:
    cases = []
    for case in suite.findall("testcase"):
        outcome, message, text = "passed", None, None
        for tag in ("failure", "error", "skipped"):
            child = case.find(tag)
            if child is not None:
                outcome, message, text = tag, child.get("message"), child.text
        cases.append({"classname": case.get("classname"), "name": case.get("name"),
                      "outcome": outcome, "message": message, "text": text})
    out.append({
        "name": suite.get("name"),
        "counts": {k: int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped")},
        "properties": {p.get("name"): p.get("value") for p in suite.iter("property")},
        "cases": cases,
    })
json.dump(out, sys.stdout)
`;

/** The test suites of a JUnit XML document; rejects when the XML does not parse. */
export async function parseJunit(xml: string): Promise<ParsedSuite[]> {
  const run = promisify(execFile)('/usr/bin/python3', ['-c', SCRIPT], { encoding: 'utf8' });
  run.child.stdin?.end(xml);
  const { stdout } = await run;
  return JSON.parse(stdout) as ParsedSuite[];
}
