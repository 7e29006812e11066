import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(import.meta.dirname, '../..');
const run = promisify(execFile);

Feature('npm run import-report reads any folder of BPMN files', () => {
  Scenario('the MIWG files of the test corpus', () => {
    let out: string;
    let report: { totals: Record<string, unknown>; files: { file: string; deployable?: boolean; viewable?: boolean; crashed?: string }[] };
    const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'baton-import-')), 'report.json');
    after(() => fs.rmSync(path.dirname(json), { recursive: true, force: true }));

    When('the command runs on test/corpora/miwg with --json', async () => {
      ({ stdout: out } = await run('npx', ['tsx', 'scripts/import-report.ts', 'test/corpora/miwg', '--json', json], { cwd: ROOT }));
      report = JSON.parse(fs.readFileSync(json, 'utf8'));
    });

    Then('it prints each file and the totals, and writes the same totals as JSON', () => {
      const files = report.files.length;
      assert.ok(files >= 20);
      assert.match(out, new RegExp(`^\\[1/${files}\\] `, 'm'));
      const { deployable, viewable, executable, refused } = report.totals;
      assert.match(out, new RegExp(`^${files} files: 0 crashed, ${deployable} deployable, ${viewable} viewable \\(as is or with view-only\\), ${executable} with a process Baton executes, ${refused} refused$`, 'm'));
      assert.deepEqual(Object.keys(report.totals).slice(0, 6), ['files', 'crashed', 'deployable', 'executable', 'refused', 'viewable']);
      assert.equal(report.totals.files, files);
      assert.equal(report.totals.crashed, 0);
      assert.equal(report.totals.deployable, report.files.filter((file) => file.deployable === true).length);
      assert.equal(report.totals.viewable, report.files.filter((file) => file.viewable === true).length);
      assert.equal(report.totals.refused, report.files.filter((file) => file.viewable === false).length);
      // the files refused as is break a rule: they are deployed with view-only, so nothing is refused for viewing
      assert.deepEqual(report.totals.refusedByReason, { REF: 1, 'EXT.128': 2, 'EXT.024': 1, 'EXT.045': 1, 'EXT.091': 1, 'EXT.093': 1 });
      assert.equal(report.totals.viewable, files);
      assert.equal(report.totals.deployable, files - 4);
      assert.match(out, /^\[\d+\/\d+\] tools\/actiBPM 3\.E-8 A\.3\.0-export\.bpmn: REFUSED as is, deployable with view-only$/m);
      assert.match(out, /^ {2}refused: <_19> REF: sequenceFlow <_19>: the reference <_16> \(bpmn:sourceRef\) names no element of the file$/m);
    });
  });

  Scenario('without a folder', () => {
    Then('it says how to call it and exits with 2', async () => {
      await assert.rejects(run('npx', ['tsx', 'scripts/import-report.ts'], { cwd: ROOT }), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /usage: npm run import-report -- DIR \[--json FILE\]/);
        return true;
      });
    });
  });
});
